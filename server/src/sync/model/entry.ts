import type { PlainRecord, SealedRecord } from './records.js';

/**
 * One record of the folder's index as the engine holds it: the signed record, its opened form
 * when this peer may read it, and the local sequence it was announced under. In a module of its
 * own so the index tables can name it without importing the folder's whole state.
 */
export interface Entry {
  s: SealedRecord;
  p?: PlainRecord;
  seq: number;
}
