// Quiet NAS logs in tests unless a developer asks for them (BURROW_LOG_LEVEL=debug npx vitest).
process.env.BURROW_LOG_LEVEL ??= 'warn';
// Nothing in the tests may leave 127.0.0.1 (or the test's own network namespaces): no public DHT
// routers, no LAN beacons, for this process and every process it starts.
process.env.BURROW_NETWORK = 'private';
