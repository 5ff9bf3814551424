// The knock hosts hear when someone arrives in the lobby: two short tones
// made with WebAudio, so that there is no sound file to fetch.

let context: AudioContext | null = null;

// ring plays the knock and tells whether it could: browsers that allow no
// sound yet (no click on the page so far) or have no WebAudio stay silent,
// and the knock is still announced and shown.
export async function ring(): Promise<boolean> {
  try {
    if (typeof AudioContext === 'undefined') return false;
    context ??= new AudioContext();
    if (context.state === 'suspended') {
      // resume() may wait for a click that never comes: do not wait for it.
      await Promise.race([context.resume(), new Promise((r) => setTimeout(r, 300))]);
    }
    if (context.state !== 'running') return false;
    const start = context.currentTime + 0.01;
    for (const [i, frequency] of [660, 880].entries()) {
      const at = start + i * 0.18;
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.type = 'sine';
      osc.frequency.value = frequency;
      // A quick rise and fall: an abrupt start or end clicks.
      gain.gain.setValueAtTime(0, at);
      gain.gain.linearRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.001, at + 0.16);
      osc.connect(gain).connect(context.destination);
      osc.start(at);
      osc.stop(at + 0.17);
    }
    return true;
  } catch {
    return false;
  }
}
