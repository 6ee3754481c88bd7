import { Type, type Static } from '@sinclair/typebox';

/** The agent's config file (see config.ts); validated by the validator generated from this. */
const HostPort = Type.String({ pattern: '^.+:[0-9]{1,5}$' });

export const AgentConfigSchema = Type.Object(
  {
    v: Type.Literal(1),
    /** The agent root: catalogue/ and files/ live here. */
    root: Type.String({ minLength: 1 }),
    device: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
    deviceSecret: Type.String({ pattern: '^A[A-Z2-7]+$' }),
    catalogueSecret: Type.String({ pattern: '^B[A-Z2-7]+$' }),
    /** The NAS key from the join string (base64url), pinned: a join string from another NAS is refused. */
    nasKey: Type.String({ minLength: 43, maxLength: 43 }),
    nas: Type.Object({ addresses: Type.Array(HostPort, { minItems: 1 }) }, { additionalProperties: false }),
    http: Type.Object(
      {
        host: Type.Literal('127.0.0.1'),
        port: Type.Integer({ minimum: 0, maximum: 65535 }),
      },
      { additionalProperties: false },
    ),
    sync: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Type.Integer({ minimum: 0, maximum: 65535 }),
        dht: Type.Boolean(),
        /** host:port bootstrap nodes; empty = the public DHT routers. */
        dhtBootstrap: Type.Array(HostPort),
        lan: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    /** How much this device may hold in files/, in MB; null = as much as is free. */
    storageLimitMb: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false },
);

export type AgentConfig = Static<typeof AgentConfigSchema>;
