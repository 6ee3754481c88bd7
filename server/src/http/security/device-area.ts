/**
 * The paths of the browser devices' web app (routes/device-app.ts): the one-time join link and
 * everything under /app/. The owner check (index.ts) leaves them to the device-credential check
 * there; nothing else accepts a device credential.
 */
export function isDeviceAreaPath(p: string): boolean {
  return p === '/app' || p.startsWith('/app/') || p.startsWith('/join/');
}
