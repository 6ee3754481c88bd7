/**
 * Run inside a device's network namespace by the soak (netns-link.ts): serve 127.0.0.1:<port> of
 * that namespace on a Unix socket, so the driver on the host reaches the agent's local API even
 * while the device's network link is cut. Usage: node ns-forward.js <socket> <port>
 */
import fs from 'node:fs';
import net from 'node:net';

const [socketPath, portText] = process.argv.slice(2);
if (!socketPath || !portText) {
  process.stderr.write('usage: ns-forward.js <socket> <port>\n');
  process.exit(2);
}
fs.rmSync(socketPath, { force: true });
net
  .createServer((client) => {
    const upstream = net.connect(Number(portText), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  })
  .listen(socketPath);
