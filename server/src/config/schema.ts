import { Type, type Static } from '@sinclair/typebox';

/**
 * The one config file, `.burrow/config.yaml`. Every key has a default here and a comment in
 * the file `burrow init` writes (config/template.ts), so a user never has to guess.
 */
export const ConfigSchema = Type.Object(
  {
    http: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 7420 }),
        tls: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], { default: 'auto' }),
        allowPlainHttpOnNetwork: Type.Boolean({ default: false }),
        allowedHosts: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { default: [] }),
        publicUrl: Type.String({ maxLength: 300, default: '' }),
      },
      { additionalProperties: false, default: {} },
    ),
    index: Type.Object(
      {
        watch: Type.Boolean({ default: true }),
        debounceMs: Type.Integer({ minimum: 0, maximum: 60000, default: 200 }),
        hashWorkers: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
        hashQueue: Type.Integer({ minimum: 1, maximum: 1000000, default: 1024 }),
        reconcileMinutes: Type.Integer({ minimum: 0, maximum: 10080, default: 360 }),
      },
      { additionalProperties: false, default: {} },
    ),
    catalogue: Type.Object(
      {
        debounceMs: Type.Integer({ minimum: 0, maximum: 60000, default: 100 }),
      },
      { additionalProperties: false, default: {} },
    ),
    trash: Type.Object(
      {
        retentionDays: Type.Number({ minimum: 0, maximum: 3650, default: 7 }),
      },
      { additionalProperties: false, default: {} },
    ),
    move: Type.Object(
      {
        waitDays: Type.Number({ minimum: 0, maximum: 3650, default: 7 }),
      },
      { additionalProperties: false, default: {} },
    ),
    jobs: Type.Object(
      {
        dedupeSchedule: Type.String({ default: '30 2 * * *' }),
        balanceSchedule: Type.String({ default: '0 3 * * *' }),
        balanceAfterGet: Type.Boolean({ default: true }),
        dedupeMinAgeSeconds: Type.Integer({ minimum: 0, default: 60 }),
        dedupeAllowMetadataMismatch: Type.Boolean({ default: false }),
      },
      { additionalProperties: false, default: {} },
    ),
    sync: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        host: Type.String({ default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 7421 }),
        dht: Type.Boolean({ default: true }),
        dhtBootstrap: Type.Array(Type.String(), { default: [] }),
        lan: Type.Boolean({ default: true }),
        knownHosts: Type.Array(Type.String(), { default: [] }),
        publicAddresses: Type.Array(Type.String(), { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    cluster: Type.Object(
      {
        zone: Type.String({ maxLength: 64, default: '' }),
        replicasZones: Type.Integer({ minimum: 0, maximum: 16, default: 0 }),
        minFreeMb: Type.Integer({ minimum: 0, default: 1024 }),
        /** A member reachable less than this share of the last 7 days does not count as a copy for the zone rule. */
        minAvailabilityPercent: Type.Integer({ minimum: 0, maximum: 100, default: 50 }),
      },
      { additionalProperties: false, default: {} },
    ),
    torrent: Type.Object(
      {
        /** false: no torrents at all (menus disabled with the reason, requests refused, listener never opens). */
        enabled: Type.Boolean({ default: true }),
        host: Type.String({ default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 1, maximum: 65535, default: 7425 }),
        publicUrl: Type.String({ default: '' }),
        /** Connections from outside at once, over web seed, tracker and peer wire together. */
        maxConnections: Type.Integer({ minimum: 1, maximum: 10000, default: 64 }),
        maxConnectionsPerAddress: Type.Integer({ minimum: 1, maximum: 1000, default: 8 }),
        /** Upload cap for the peer wire, KiB/s; 0 = none. */
        uploadLimitKiBps: Type.Integer({ minimum: 0, default: 0 }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union([Type.Literal('trace'), Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('silent')], {
          default: 'info',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type BurrowConfig = Static<typeof ConfigSchema>;
