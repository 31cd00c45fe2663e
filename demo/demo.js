// A minimal call: getUserMedia → RTCPeerConnection → RTCPeerConnection → <video>. The page is an
// ordinary call page and knows nothing about Brushcam.
const local = document.getElementById('local');
const remote = document.getElementById('remote');
const stats = document.getElementById('stats');
let pcs = [];
let stream = null;

async function start() {
  const q = new URLSearchParams(location.search);
  const width = Number(q.get('w') ?? 640);
  const height = Number(q.get('h') ?? 360);
  stream = await navigator.mediaDevices.getUserMedia({ video: { width, height, frameRate: 30 }, audio: false });
  local.srcObject = stream;
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  pcs = [a, b];
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  b.ontrack = (e) => (remote.srcObject = e.streams[0]);
  for (const t of stream.getTracks()) a.addTrack(t, stream);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  document.getElementById('start').disabled = true;
  document.getElementById('hangup').disabled = false;
}

function hangup() {
  for (const pc of pcs) pc.close();
  pcs = [];
  for (const t of stream?.getTracks() ?? []) t.stop();
  local.srcObject = remote.srcObject = null;
  document.getElementById('start').disabled = false;
  document.getElementById('hangup').disabled = true;
}

async function showStats() {
  const pc = pcs[1];
  if (pc) {
    for (const r of (await pc.getStats()).values()) {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        stats.textContent = `received ${r.frameWidth ?? '?'}×${r.frameHeight ?? '?'} at ${(r.framesPerSecond ?? 0).toFixed(0)} fps, ${r.framesDecoded} frames decoded`;
      }
    }
  }
  setTimeout(showStats, 1000);
}

document.getElementById('start').onclick = () => start().catch((e) => (stats.textContent = `error: ${e.message}`));
document.getElementById('hangup').onclick = hangup;
if (new URLSearchParams(location.search).has('autostart')) start().catch((e) => (stats.textContent = `error: ${e.message}`));
showStats();

// For the headless demo runner: the page's own handles (Brushcam itself defines nothing).
window.demoCall = {
  get localTrack() { return stream?.getVideoTracks()[0] ?? null; },
  get remoteTrack() { return remote.srcObject?.getVideoTracks()[0] ?? null; },
  hangup,
};
