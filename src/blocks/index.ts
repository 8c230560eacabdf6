/**
 * blocks/: moving content-addressed blocks (chunks of files) from many
 * peers at once: which block to ask of which peer, and when. Pure logic
 * like sync/: no I/O, no clock, no timers; files/ and net/ drive it.
 *
 * Imports nothing of the project but codec/.
 */
export { BlockScheduler } from './scheduler.ts'
export type { BlockRef, SchedulerOptions, SchedulerAction, SchedulerProgress, PeerProgress } from './scheduler.ts'
