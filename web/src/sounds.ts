// Notification sounds, made with WebAudio so that there is no sound file to
// fetch: the knock hosts hear when someone arrives in the lobby, and the
// softer chimes of small meetings (someone joins, leaves, writes).

export type Sound = 'knock' | 'joined' | 'left' | 'message';

// Each sound is a few short tones: [frequency in Hz, start in seconds].
const tones: Record<Sound, [number, number][]> = {
  knock: [[660, 0], [880, 0.18]],
  joined: [[523, 0], [784, 0.12]],
  left: [[784, 0], [523, 0.12]],
  message: [[988, 0]],
};
const loudness: Record<Sound, number> = { knock: 0.2, joined: 0.08, left: 0.06, message: 0.06 };

let context: AudioContext | null = null;

// play plays a sound and tells whether it could: browsers that allow no
// sound yet (no click on the page so far) or have no WebAudio stay silent,
// and what the sound tells is still announced and shown.
export async function play(sound: Sound): Promise<boolean> {
  try {
    if (typeof AudioContext === 'undefined') return false;
    context ??= new AudioContext();
    if (context.state === 'suspended') {
      // resume() may wait for a click that never comes: do not wait for it.
      await Promise.race([context.resume(), new Promise((r) => setTimeout(r, 300))]);
    }
    if (context.state !== 'running') return false;
    const start = context.currentTime + 0.01;
    for (const [frequency, offset] of tones[sound]) {
      const at = start + offset;
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.type = 'sine';
      osc.frequency.value = frequency;
      // A quick rise and fall: an abrupt start or end clicks.
      gain.gain.setValueAtTime(0, at);
      gain.gain.linearRampToValueAtTime(loudness[sound], at + 0.02);
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
