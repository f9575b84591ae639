/**
 * Slack posts about a message a second per channel, bursts aside (its "special rate limits" for
 * chat.postMessage, and the same for incoming webhooks): after a 429's hold, a backlog goes at that pace.
 */
export const SLACK_PACE_MS = 1000;
