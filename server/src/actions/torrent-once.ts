export { torrentOnceAction } from './torrent.js';
