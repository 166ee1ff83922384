"""Member broadcasts: drafts, runs, the monthly quota, send-time rendering, unsubscribe and
newsletter templates."""
