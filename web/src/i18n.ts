// Every string the app shows, in French (the default) and English. The
// English table must have exactly the French keys: the type checker says so.

const fr = {
  'app.name': 'Visio',
  'app.tagline': 'Réunions vidéo sécurisées, hébergées par votre administration.',
  'lang.switch': 'English',
  'lang.switchLabel': 'Switch to English',

  'home.new': 'Nouvelle réunion',
  'home.creating': 'Création…',
  'home.createFailed': 'La réunion n’a pas pu être créée. Vérifiez votre connexion puis réessayez.',
  'home.joinLabel': 'Code ou lien de la réunion',
  'home.joinPlaceholder': 'abc-defg-hij',
  'home.join': 'Rejoindre',
  'home.badCode': 'Ce n’est pas un code de réunion. Un code ressemble à abc-defg-hij ; vous pouvez aussi coller le lien complet.',

  'prejoin.title': 'Prêt à rejoindre ?',
  'prejoin.room': 'Réunion {code}',
  'prejoin.name': 'Votre nom',
  'prejoin.nameHint': 'Il sera visible par les autres participants.',
  'prejoin.nameMissing': 'Saisissez votre nom pour rejoindre.',
  'prejoin.camera': 'Caméra',
  'prejoin.microphone': 'Micro',
  'prejoin.join': 'Rejoindre la réunion',
  'prejoin.joining': 'Connexion…',
  'prejoin.preview': 'Aperçu de votre caméra',
  'prejoin.noPreview': 'Caméra désactivée',
  'prejoin.retry': 'Réessayer',
  'prejoin.copyLink': 'Copier le lien',
  'prejoin.linkCopied': 'Lien copié',

  'devices.denied': 'Votre navigateur bloque la caméra et le micro. Autorisez-les dans les réglages du site (l’icône à gauche de l’adresse), puis cliquez sur Réessayer. Vous pouvez aussi rejoindre sans eux.',
  'devices.missing': 'Aucune caméra ni aucun micro trouvé. Branchez-en un puis cliquez sur Réessayer, ou rejoignez sans.',
  'devices.noCamera': 'Aucune caméra trouvée : vous rejoindrez sans vidéo.',
  'devices.noMicrophone': 'Aucun micro trouvé : les autres ne vous entendront pas.',
  'devices.busy': 'La caméra ou le micro est utilisé par une autre application. Fermez-la puis cliquez sur Réessayer.',
  'devices.failed': 'La caméra ou le micro n’a pas pu démarrer. Cliquez sur Réessayer ou rejoignez sans.',
  'devices.insecure': 'Cette page n’est pas servie en HTTPS : le navigateur refuse l’accès à la caméra et au micro. Utilisez l’adresse https:// du service.',

  'meeting.title': 'Réunion {code}',
  'meeting.you': 'Vous',
  'meeting.participants': '{count} participants',
  'meeting.participant': '1 participant',
  'meeting.alone': 'Vous êtes seul dans la réunion. Partagez le lien pour inviter d’autres personnes.',
  'meeting.micOff': 'Activer le micro',
  'meeting.micOn': 'Couper le micro',
  'meeting.camOff': 'Activer la caméra',
  'meeting.camOn': 'Couper la caméra',
  'meeting.shareStart': 'Présenter l’écran',
  'meeting.shareStop': 'Arrêter la présentation',
  'meeting.leave': 'Quitter',
  'meeting.controls': 'Commandes de la réunion',
  'meeting.muted': 'Micro coupé',
  'meeting.cameraOff': 'Caméra coupée',
  'meeting.speaking': 'parle',
  'quality.good': 'Connexion bonne',
  'quality.fair': 'Connexion moyenne',
  'quality.poor': 'Connexion mauvaise',
  'meeting.screenOf': 'Écran de {name}',
  'meeting.joined': '{name} a rejoint la réunion',
  'meeting.left': '{name} a quitté la réunion',
  'meeting.shareFailed': 'Le partage d’écran n’a pas démarré. Réessayez et choisissez un écran ou une fenêtre.',
  'meeting.cameraFailed': 'La caméra n’a pas pu démarrer. Vérifiez qu’elle est branchée et autorisée.',
  'meeting.microphoneFailed': 'Le micro n’a pas pu démarrer. Vérifiez qu’il est branché et autorisé.',

  'connection.connecting': 'Connexion…',
  'connection.connected': 'Connecté',
  'connection.reconnecting': 'Connexion instable, reconnexion…',
  'connection.failed': 'Connexion perdue',
  'connection.label': 'État de la connexion : {state}',

  'ended.title': 'Vous avez quitté la réunion',
  'ended.rejoin': 'Rejoindre à nouveau',
  'ended.home': 'Retour à l’accueil',
  'ended.connection_lost': 'La connexion au serveur a été perdue. Vérifiez votre réseau puis rejoignez à nouveau.',
  'ended.connection_failed': 'La connexion audio et vidéo a échoué. Votre réseau bloque peut-être le trafic vers le serveur ; réessayez ou contactez votre service informatique.',
  'ended.server_shutdown': 'Le serveur redémarre. Rejoignez à nouveau dans quelques secondes.',
  'ended.too_slow': 'Votre connexion était trop lente pour suivre la réunion. Rejoignez à nouveau.',
  'ended.room_full': 'Cette réunion est complète. Réessayez plus tard ou demandez à un organisateur de faire de la place.',
  'ended.room_unavailable': 'Cette réunion n’est pas disponible pour le moment. Réessayez dans quelques secondes.',
  'ended.unsupported_protocol': 'Cette page est obsolète. Rechargez-la pour obtenir la dernière version.',
  'ended.error': 'Une erreur est survenue : {message}. Rejoignez à nouveau.',

  'notfound.title': 'Page introuvable',
  'notfound.text': 'Cette adresse ne correspond à aucune réunion. Vérifiez le lien ou créez une nouvelle réunion.',
} as const;

export type MessageKey = keyof typeof fr;

const en: Record<MessageKey, string> = {
  'app.name': 'Visio',
  'app.tagline': 'Secure video meetings, hosted by your administration.',
  'lang.switch': 'Français',
  'lang.switchLabel': 'Passer en français',

  'home.new': 'New meeting',
  'home.creating': 'Creating…',
  'home.createFailed': 'The meeting could not be created. Check your connection and try again.',
  'home.joinLabel': 'Meeting code or link',
  'home.joinPlaceholder': 'abc-defg-hij',
  'home.join': 'Join',
  'home.badCode': 'This is not a meeting code. A code looks like abc-defg-hij; you can also paste the whole link.',

  'prejoin.title': 'Ready to join?',
  'prejoin.room': 'Meeting {code}',
  'prejoin.name': 'Your name',
  'prejoin.nameHint': 'Other participants will see it.',
  'prejoin.nameMissing': 'Enter your name to join.',
  'prejoin.camera': 'Camera',
  'prejoin.microphone': 'Microphone',
  'prejoin.join': 'Join the meeting',
  'prejoin.joining': 'Connecting…',
  'prejoin.preview': 'Your camera preview',
  'prejoin.noPreview': 'Camera off',
  'prejoin.retry': 'Try again',
  'prejoin.copyLink': 'Copy link',
  'prejoin.linkCopied': 'Link copied',

  'devices.denied': 'Your browser blocks the camera and microphone. Allow them in the site settings (the icon left of the address), then click Try again. You can also join without them.',
  'devices.missing': 'No camera or microphone found. Plug one in and click Try again, or join without.',
  'devices.noCamera': 'No camera found: you will join without video.',
  'devices.noMicrophone': 'No microphone found: others will not hear you.',
  'devices.busy': 'The camera or microphone is used by another application. Close it, then click Try again.',
  'devices.failed': 'The camera or microphone could not start. Click Try again or join without.',
  'devices.insecure': 'This page is not served over HTTPS, so the browser refuses camera and microphone access. Use the service’s https:// address.',

  'meeting.title': 'Meeting {code}',
  'meeting.you': 'You',
  'meeting.participants': '{count} participants',
  'meeting.participant': '1 participant',
  'meeting.alone': 'You are alone in the meeting. Share the link to invite others.',
  'meeting.micOff': 'Turn microphone on',
  'meeting.micOn': 'Turn microphone off',
  'meeting.camOff': 'Turn camera on',
  'meeting.camOn': 'Turn camera off',
  'meeting.shareStart': 'Present your screen',
  'meeting.shareStop': 'Stop presenting',
  'meeting.leave': 'Leave',
  'meeting.controls': 'Meeting controls',
  'meeting.muted': 'Microphone off',
  'meeting.cameraOff': 'Camera off',
  'meeting.speaking': 'speaking',
  'quality.good': 'Good connection',
  'quality.fair': 'Fair connection',
  'quality.poor': 'Poor connection',
  'meeting.screenOf': '{name}’s screen',
  'meeting.joined': '{name} joined the meeting',
  'meeting.left': '{name} left the meeting',
  'meeting.shareFailed': 'Screen sharing did not start. Try again and pick a screen or window.',
  'meeting.cameraFailed': 'The camera could not start. Check that it is plugged in and allowed.',
  'meeting.microphoneFailed': 'The microphone could not start. Check that it is plugged in and allowed.',

  'connection.connecting': 'Connecting…',
  'connection.connected': 'Connected',
  'connection.reconnecting': 'Unstable connection, reconnecting…',
  'connection.failed': 'Connection lost',
  'connection.label': 'Connection state: {state}',

  'ended.title': 'You left the meeting',
  'ended.rejoin': 'Join again',
  'ended.home': 'Back to home',
  'ended.connection_lost': 'The connection to the server was lost. Check your network, then join again.',
  'ended.connection_failed': 'The audio and video connection failed. Your network may block traffic to the server; try again or contact your IT department.',
  'ended.server_shutdown': 'The server is restarting. Join again in a few seconds.',
  'ended.too_slow': 'Your connection was too slow to keep up with the meeting. Join again.',
  'ended.room_full': 'This meeting is full. Try again later or ask a host to make room.',
  'ended.room_unavailable': 'This meeting is not available right now. Try again in a few seconds.',
  'ended.unsupported_protocol': 'This page is out of date. Reload it to get the latest version.',
  'ended.error': 'Something went wrong: {message}. Join again.',

  'notfound.title': 'Page not found',
  'notfound.text': 'This address is not a meeting. Check the link or create a new meeting.',
};

export type Lang = 'fr' | 'en';
const tables: Record<Lang, Record<MessageKey, string>> = { fr, en };
const storageKey = 'visio.lang';

// pickLanguage takes the first of the user's languages that the app speaks,
// and French otherwise. A choice made in the app wins.
export function pickLanguage(preferred: readonly string[], saved: string | null): Lang {
  if (saved === 'fr' || saved === 'en') return saved;
  for (const l of preferred) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'fr' || base === 'en') return base;
  }
  return 'fr';
}

let current: Lang = pickLanguage(navigator.languages ?? [navigator.language], safeStorageGet(storageKey));
document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang) {
  current = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem(storageKey, l);
  } catch {
    // private browsing: the choice lasts for this page only
  }
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return (tables[current][key] ?? key).replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

export function safeStorageGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
