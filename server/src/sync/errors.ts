/**
 * One error class for the whole engine, with a stable `code` per failure
 * (hypercore style), so hosts can branch on codes instead of messages.
 */
export type SyncErrorCode =
  | 'BAD_SECRET'
  | 'BAD_FRAME'
  | 'BAD_MESSAGE'
  | 'HANDSHAKE_FAILED'
  | 'DECRYPT_FAILED'
  | 'BAD_SIGNATURE'
  | 'BAD_RECORD'
  | 'BAD_BLOCK'
  | 'MODE_NOT_ALLOWED'
  | 'UNKNOWN_FOLDER'
  | 'FOLDER_EXISTS'
  | 'CLOSED'
  | 'PAUSED'
  | 'NOT_A_CONFLICT'
  | 'PEER_SILENT'
  | 'IO';

export class SyncError extends Error {
  readonly code: SyncErrorCode;
  constructor(code: SyncErrorCode, message: string) {
    super(message);
    this.name = 'SyncError';
    this.code = code;
  }
}

export function syncError(code: SyncErrorCode, message: string): SyncError {
  return new SyncError(code, message);
}
