/**
 * How long after a change of Vigil's was sent its echo may still come: EventBridge's API destinations
 * retry a delivery for up to 24 hours (SNS gives up after one), and BatchUpdateFindings takes minutes to
 * apply; an hour more covers Vigil's own intake queue. An older sent change is no longer taken for the
 * source of a value that Security Hub sends: that value is someone's newer change. The same span bounds
 * how long a delivery's retry can come, so what recognises either is kept at least this long.
 */
export const ECHO_WINDOW_MS = 25 * 60 * 60 * 1000;
