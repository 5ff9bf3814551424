import { render } from 'preact';
import { useState } from 'preact/hooks';
import { lang } from './i18n';
import { parseRoomCode } from './roomcode';
import { usePath } from './router';
import { Home } from './views/Home';
import { Room } from './views/Room';
import { NotFound } from './views/NotFound';
import { ConnectionTest } from './views/ConnectionTest';
import './styles.css';

function App() {
  const path = usePath();
  const [, setLang] = useState(lang());
  if (path === '/') return <Home onLanguage={() => setLang(lang())} />;
  if (path === '/check') return <ConnectionTest />;
  const code = parseRoomCode(path.slice(1));
  if (code && `/${code}` === path) return <Room key={code} code={code} />;
  return <NotFound />;
}

render(<App />, document.getElementById('app')!);
