/** The commented config file `burrow init` writes. Keep it in step with config/schema.ts. */
export const CONFIG_TEMPLATE = `# Burrow NAS configuration. Every key is optional; the value shown is the default.
# Validated at start: a wrong key or value stops Burrow with a message naming it.

http:
  # Address of the admin UI, the catalogue and the API (an IP address or a host name of
  # this machine). Every route needs the admin password (browser) or .burrow/api-token (CLI).
  host: 127.0.0.1
  # TCP port of the HTTP server (0 = pick a free one and print it).
  port: 7420
  # HTTPS: auto = on whenever host is not a loopback address, with a self-signed certificate
  # made in .burrow/tls/ (burrow status prints its SHA-256 fingerprint); on = always; off = never.
  tls: auto
  # Serve plain HTTP on a non-loopback address anyway (passwords and tokens then cross the
  # network readable by anyone on it). Logged loudly at every start. Prefer a VPN or a proxy.
  allowPlainHttpOnNetwork: false
  # Extra names the NAS answers to in the Host header (e.g. the domain of your reverse proxy).
  # Any other name is refused (HTTP 421), which stops DNS-rebinding pages.
  allowedHosts: []
  # The HTTPS address phones and other browsers use to reach this NAS, e.g.
  # https://burrow.example.org (a reverse proxy such as Caddy with a real domain) or
  # https://nas.tailnet-name.ts.net (a VPN with HTTPS names). Join links for the web app
  # ("burrow device add <name> --web") start with it; its host name must also be in allowedHosts.
  # Empty = the address this NAS serves on (a self-signed certificate: phones will refuse it).
  publicUrl: ""

index:
  # Watch files/ and devices/ for changes while running (per-folder inotify watches).
  watch: true
  # Wait this long (ms) after the last change before writing a batch to the index.
  debounceMs: 200
  # Worker threads that hash file contents in the background (SHA-256 via node:crypto).
  hashWorkers: 2
  # Most files queued for hashing at once; the queue refills from the index as it drains.
  hashQueue: 1024
  # Full re-check of the disk against the index every N minutes (0 = only at start).
  reconcileMinutes: 360

catalogue:
  # Coalesce index changes for this long (ms) into one catalogue publish (a publish after a
  # few changes re-reads only those paths, so it is cheap; this is most of a click's wait).
  debounceMs: 100

trash:
  # Destroyed files are kept in .burrow/trash for this many days (burrow trash list|restore).
  retentionDays: 7

move:
  # A move keeps the file on its source until every target device holds it. If a target has
  # not got it after this many days, the move fails and the source keeps the file.
  waitDays: 7

jobs:
  # Cron schedules (minute hour day month weekday) for the nightly jobs.
  dedupeSchedule: "30 2 * * *"
  balanceSchedule: "0 3 * * *"
  # Also balance a device right after each get (so a get never overfills it).
  balanceAfterGet: true
  # Dedupe skips files modified in the last N seconds (they may still be being written).
  dedupeMinAgeSeconds: 60
  # Dedupe links files even when owner or mode differ (one inode keeps one set of metadata).
  dedupeAllowMetadataMismatch: false

sync:
  # Run the embedded sync engine (devices and friends sync through it).
  enabled: true
  # Address and TCP port the sync engine listens on.
  host: 0.0.0.0
  port: 7421
  # Find peers through the BitTorrent DHT (only a hash of a folder's public id is announced).
  dht: true
  # DHT bootstrap nodes as host:port. Empty = the DHT library's public routers.
  dhtBootstrap: []
  # Find peers on the local network with UDP beacons that reveal nothing to strangers.
  lan: true
  # Peers to always try, as host:port.
  knownHosts: []
  # Addresses (host:port) put into device join strings so devices can reach this NAS.
  publicAddresses: []

cluster:
  # Several NAS (burrow nas invite / nas join). This member's network zone: empty = the first
  # three octets of its public address (sync.publicAddresses, else its LAN address); set a name
  # (e.g. your ISP) when two members share one provider's fate.
  zone: ""
  # How many distinct zones must hold every file; 0 = 2 when the group spans two zones or more.
  replicasZones: 0
  # Below this much free space (MB) this member stops taking new files from the others, and says so.
  minFreeMb: 1024
  # A member reachable from this one less than this share (%) of the last 7 days does not count
  # as a copy when the zone rule is checked (a member is judged once it has been known an hour).
  minAvailabilityPercent: 50

torrent:
  # The listener that serves torrents ([create torrent], burrow torrent) to people outside the
  # home, all on this one TCP port: a BEP 19 web seed (HTTP Range), an HTTP tracker
  # (/tr/<passkey>/announce) and the NAS seeding over the BitTorrent peer wire. It listens only
  # while a torrent is active. enabled: false turns torrents off: the catalogue shows the two
  # entries disabled, requests to make one are refused, and the listener never opens.
  enabled: true
  host: 0.0.0.0
  port: 7425
  # The address written into each .torrent (e.g. http://home.example.org:7425). Empty = this
  # machine's LAN address and torrent.port; forward that port (TCP) on your router.
  publicUrl: ""
  # Caps for outside peers: connections at once (all paths), per address, and the peer-wire
  # upload rate in KiB/s (0 = no cap).
  maxConnections: 64
  maxConnectionsPerAddress: 8
  uploadLimitKiBps: 0

log:
  # trace | debug | info | warn | error | silent
  level: info
`;
