// QR scanning with the browser's own BarcodeDetector (Chrome on Android has it); no library, so phones without
// it get the typed-code form only.

export function canScan() {
  return 'BarcodeDetector' in window && Boolean(navigator.mediaDevices?.getUserMedia);
}

/**
 * Shows the back camera in `video` until a QR code is read; resolves with its text. Rejects with the
 * getUserMedia error (NotAllowedError, NotFoundError, …) or an AbortError when `signal` fires.
 */
export async function scanQR(video, signal) {
  const formats = await window.BarcodeDetector.getSupportedFormats?.() ?? ['qr_code'];
  if (!formats.includes('qr_code')) throw new DOMException('QR codes are not supported', 'NotSupportedError');
  const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false });
  try {
    video.srcObject = stream;
    await video.play();
    while (!signal.aborted) {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length > 0) return codes[0].rawValue;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new DOMException('Scan cancelled', 'AbortError');
  } finally {
    stream.getTracks().forEach((track) => track.stop()); // the camera light goes off as soon as we are done
    video.srcObject = null;
  }
}
