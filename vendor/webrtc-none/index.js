// Burrow runs bittorrent-tracker's HTTP server only; WebRTC trackers and peers are not built in.
const none = () => {
  throw new Error('WebRTC is not available in Burrow (webrtc-polyfill is replaced by vendor/webrtc-none).');
};
export const RTCPeerConnection = none;
export const RTCSessionDescription = none;
export const RTCIceCandidate = none;
export default { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate };
