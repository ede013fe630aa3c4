/* Starting the daemon's threads (threads.c). */
#ifndef DIRD_THREADS_H
#define DIRD_THREADS_H

/* Runs fn(arg) in a new detached thread (signals blocked as the caller's are).  0, or -1 when
 * it could not be started. */
int thread_start_detached(void *(*fn)(void *), void *arg);

#endif
