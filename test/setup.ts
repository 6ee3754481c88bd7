// Quiet NAS logs in tests unless a developer asks for them (BURROW_LOG_LEVEL=debug npx vitest).
process.env.BURROW_LOG_LEVEL ??= 'warn';
