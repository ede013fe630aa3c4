/* Readiness for systemd (notify.c). */
#ifndef DIRD_NOTIFY_H
#define DIRD_NOTIFY_H

/* Tells systemd (NOTIFY_SOCKET) that dird serves. */
void notify_ready(void);

#endif
