import { useState } from 'preact/hooks';
import { t, type MessageKey } from '../i18n';
import { capture, captureScreen } from '../media';
import { isHost, type Governed } from '../meetingstate';
import type { MeetingSession } from '../session';
import { useShortcuts } from '../shortcuts';
import { CameraIcon, CaptionsIcon, HandIcon, LeaveIcon, MicIcon, ScreenIcon } from './icons';
import { ChatButton } from './Chat';
import { LobbyButton } from './Lobby';
import { participantsPanelId } from './Participants';
import { PictureInPictureButton } from './PictureInPicture';
import { ReactionButton } from './Reactions';
import { ShortcutsButton, ShortcutsHelp } from './ShortcutsHelp';
import { speechPanelId } from './SpeechPanel';

export type PanelName = 'participants' | 'chat' | 'lobby' | 'speech' | null;

// Why a control is off when the room's rules forbid its source.
const forbiddenKey: Record<Governed, MessageKey> = {
  microphone: 'rules.noMicrophone',
  camera: 'rules.noCamera',
  screen: 'rules.noScreen',
};

// Controls is the meeting's footer: the user's own microphone, camera,
// screen, hand, reactions, captions and leave buttons, and the panels and
// settings. A control
// the room forbids stays focusable (aria-disabled) so that keyboard and
// screen reader users can reach it and hear why it is off. Captions are
// each participant's own choice, shown while the room has them on. The
// keyboard shortcuts do what the buttons do; as focus stays where it was,
// what they changed is announced.
export function Controls({
  session,
  panel,
  onPanel,
  onSettings,
  onToast,
  onAnnounce,
  captionsShown,
  onCaptions,
}: {
  session: MeetingSession;
  panel: PanelName;
  onPanel: (p: PanelName) => void;
  onSettings: () => void;
  onToast: (key: MessageKey) => void;
  onAnnounce: (text: string) => void;
  captionsShown: boolean;
  onCaptions: (shown: boolean) => void;
}) {
  const s = session.state;
  const host = isHost(s.self);
  const forbidden = (['microphone', 'camera', 'screen'] as const).filter((src) => !session.may(src));
  const blocked = (src: Governed) => forbidden.includes(src);
  const why = (src: Governed) => (blocked(src) ? { 'aria-disabled': 'true' as const, 'aria-describedby': 'rules-hint' } : {});

  const toggleMicrophone = () => {
    if (s.micMuted && blocked('microphone')) onToast(forbiddenKey.microphone);
    else session.setMicrophoneMuted(!s.micMuted);
  };

  const toggleCamera = async () => {
    if (s.cameraOn) {
      await session.setCamera(null);
      return;
    }
    if (blocked('camera')) {
      onToast(forbiddenKey.camera);
      return;
    }
    const c = await capture({ audio: false, video: true });
    const track = c.stream.getVideoTracks()[0];
    if (!track) {
      onToast('meeting.cameraFailed');
      return;
    }
    await session.setCamera(track);
  };

  const toggleScreen = async () => {
    if (s.sharing) {
      await session.stopScreen();
      return;
    }
    if (blocked('screen')) {
      onToast(forbiddenKey.screen);
      return;
    }
    try {
      await session.startScreen(await captureScreen());
    } catch (err) {
      // Closing the browser's picker is a choice, not a failure.
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) onToast('meeting.shareFailed');
    }
  };

  const handUp = !!s.self?.hand_raised_at;
  const [helpOpen, setHelpOpen] = useState(false);
  useShortcuts({
    microphone: () => {
      if (!s.local.microphone) {
        onToast('devices.noMicrophone'); // the button is disabled; the keys say why
        return;
      }
      // Read before: the session changes its state object in place.
      const wasMuted = s.micMuted;
      toggleMicrophone();
      const muted = session.state.micMuted;
      if (muted !== wasMuted) onAnnounce(muted ? t('meeting.muted') : t('people.micOn'));
    },
    camera: () => {
      const wasOn = s.cameraOn;
      void toggleCamera().then(() => {
        const on = session.state.cameraOn;
        if (on !== wasOn) onAnnounce(on ? t('people.cameraOn') : t('meeting.cameraOff'));
      });
    },
    hand: () => {
      session.setHand(!handUp);
      onAnnounce(handUp ? t('meeting.handDown') : t('meeting.handUp'));
    },
    chat: () => onPanel(panel === 'chat' ? null : 'chat'),
    help: () => setHelpOpen(true),
    escape: () => {
      if (panel) onPanel(null);
    },
  });
  const micLabel = s.micMuted ? t('meeting.micOff') : t('meeting.micOn');
  const camLabel = s.cameraOn ? t('meeting.camOn') : t('meeting.camOff');
  const shareLabel = s.sharing ? t('meeting.shareStop') : t('meeting.shareStart');
  return (
    <footer>
      {forbidden.length > 0 && (
        <p id="rules-hint" class="rules-hint">
          {forbidden.map((src) => t(forbiddenKey[src])).join(' ')}
        </p>
      )}
      <div class="footer-row">
        <div class="controls" role="toolbar" aria-label={t('meeting.controls')}>
          <button
            type="button"
            class={`round ${s.micMuted ? 'off' : ''}`}
            disabled={!s.local.microphone}
            {...(s.micMuted ? why('microphone') : {})}
            aria-label={micLabel}
            title={micLabel}
            onClick={toggleMicrophone}
          >
            <MicIcon off={s.micMuted || !s.local.microphone} />
          </button>
          <button
            type="button"
            class={`round ${s.cameraOn ? '' : 'off'}`}
            {...(s.cameraOn ? {} : why('camera'))}
            aria-label={camLabel}
            title={camLabel}
            onClick={() => void toggleCamera()}
          >
            <CameraIcon off={!s.cameraOn} />
          </button>
          {navigator.mediaDevices && 'getDisplayMedia' in navigator.mediaDevices && (
            <button
              type="button"
              class={`round ${s.sharing ? 'active' : ''}`}
              {...(s.sharing ? {} : why('screen'))}
              aria-label={shareLabel}
              title={shareLabel}
              onClick={() => void toggleScreen()}
            >
              <ScreenIcon />
            </button>
          )}
          <button
            type="button"
            class={`round ${handUp ? 'active' : ''}`}
            aria-pressed={handUp}
            aria-label={t('meeting.raiseHand')}
            title={handUp ? t('meeting.lowerHand') : t('meeting.raiseHand')}
            onClick={() => session.setHand(!handUp)}
          >
            <HandIcon />
          </button>
          <ReactionButton session={session} />
          {s.speech?.captions && (
            <button
              type="button"
              class={`round ${captionsShown ? 'active' : ''}`}
              aria-pressed={captionsShown}
              aria-label={t('captions.button')}
              title={captionsShown ? t('captions.hide') : t('captions.show')}
              onClick={() => onCaptions(!captionsShown)}
            >
              <CaptionsIcon />
            </button>
          )}
          <button type="button" class="round danger" aria-label={t('meeting.leave')} title={t('meeting.leave')} onClick={() => session.leave()}>
            <LeaveIcon />
          </button>
        </div>
        <div class="tools" role="group" aria-label={t('meeting.tools')}>
          <button
            type="button"
            class={`tool ${panel === 'participants' ? 'active' : ''}`}
            aria-expanded={panel === 'participants'}
            aria-controls={panel === 'participants' ? participantsPanelId : undefined}
            onClick={() => onPanel(panel === 'participants' ? null : 'participants')}
          >
            {t('people.button')}
          </button>
          <ChatButton unread={s.chat.unread} expanded={panel === 'chat'} onToggle={() => onPanel(panel === 'chat' ? null : 'chat')} />
          {host && <LobbyButton session={session} expanded={panel === 'lobby'} onToggle={() => onPanel(panel === 'lobby' ? null : 'lobby')} />}
          {host && s.speech && (
            <button
              type="button"
              class={`tool ${panel === 'speech' ? 'active' : ''}`}
              aria-expanded={panel === 'speech'}
              aria-controls={panel === 'speech' ? speechPanelId : undefined}
              onClick={() => onPanel(panel === 'speech' ? null : 'speech')}
            >
              {t('speech.button')}
            </button>
          )}
          {host && s.rules && (
            <button type="button" class="tool" aria-haspopup="dialog" aria-label={t('settings.title')} onClick={onSettings}>
              {t('settings.button')}
            </button>
          )}
          <PictureInPictureButton session={session} />
          <ShortcutsButton onOpen={() => setHelpOpen(true)} />
        </div>
      </div>
      {helpOpen && <ShortcutsHelp onClose={() => setHelpOpen(false)} />}
    </footer>
  );
}
