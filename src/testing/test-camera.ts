/**
 * Test builds only: a MAIN-world script that runs before Brushcam's and, on pages opened with
 * `?testcam=<url of a picture or video>`, makes the native getUserMedia return that picture as the
 * camera (a canvas captured at 30 fps), so tests can look for a raw-only marker or a face.
 * Firefox's own fake camera is a flat colour. Audio requests still get the fake microphone.
 */
const src = new URLSearchParams(location.search).get('testcam');
const md = globalThis.MediaDevices?.prototype;
if (src && md) {
  const original = md.getUserMedia;
  const open = async (constraints?: MediaStreamConstraints): Promise<MediaStream> => {
    const video = typeof constraints?.video === 'object' ? constraints.video : {};
    const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : typeof (v as { ideal?: unknown })?.ideal === 'number' ? (v as { ideal: number }).ideal : d);
    const w = num(video.width, 640), h = num(video.height, 360);
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d')!;
    let draw: () => void;
    if (/\.(webm|mp4|ogv)$/.test(src)) {
      const v = document.createElement('video');
      v.muted = true;
      v.loop = true;
      v.src = src;
      await v.play();
      draw = () => ctx.drawImage(v, 0, 0, w, h);
    } else {
      const img = new Image();
      img.src = src;
      await img.decode();
      draw = () => ctx.drawImage(img, 0, 0, w, h);
    }
    draw();
    const track = canvas.captureStream().getVideoTracks()[0]!;
    // A worker clock keeps the picture coming in hidden tabs too.
    // (A page whose CSP forbids blob workers gets a plain timer.)
    let timer: ReturnType<typeof setInterval> | null = null;
    const clock = new Worker(URL.createObjectURL(new Blob(['setInterval(() => postMessage(0), 33)'], { type: 'text/javascript' })));
    clock.onmessage = draw;
    clock.onerror = () => {
      timer ??= setInterval(draw, 33);
    };
    // Brushcam stops the camera through the prototype's stop(), which fires no 'ended': poll.
    const readyState = Object.getOwnPropertyDescriptor(MediaStreamTrack.prototype, 'readyState')!.get!;
    const poll = setInterval(() => {
      if (readyState.call(track) !== 'ended') return;
      clearInterval(poll);
      clock.terminate();
      if (timer !== null) clearInterval(timer);
    }, 500);
    const out = new MediaStream([track]);
    if (constraints?.audio) for (const t of (await original.call(navigator.mediaDevices, { audio: constraints.audio })).getAudioTracks()) out.addTrack(t);
    return out;
  };
  Object.defineProperty(md, 'getUserMedia', {
    value: function getUserMedia(constraints?: MediaStreamConstraints) {
      return constraints?.video ? open(constraints) : original.call(this, constraints);
    },
    writable: true,
    configurable: true,
  });
}
