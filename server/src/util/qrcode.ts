import { lazyCjs } from './lazy-cjs.js';

/** The qrcode package, loaded the first time a QR code is drawn. */
export const qrcode = lazyCjs<typeof import('qrcode')>('qrcode');
