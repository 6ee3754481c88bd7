/** When the sync engine drops a silent link (its transport's rule, BURROW_SYNC_DEAD_MS overrides the 6 s). */
export const LIVENESS_DEAD_MS = Number(process.env.BURROW_SYNC_DEAD_MS) || 6000;
