// Package config loads Visio's settings from, in rising order of precedence,
// built-in defaults, a YAML file, VISIO_* environment variables and
// command-line flags. Every setting has one key (media.udp_port) that names
// it in all three: the YAML path, the variable VISIO_MEDIA_UDP_PORT and the
// flag --media.udp_port. A bad value stops start-up with an error that names
// the key and where the value came from.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the complete set of settings.
type Config struct {
	HTTP struct {
		Addr           string
		AllowedOrigins []string
		TrustedProxies []string
		TLSCert        string
		TLSKey         string
	}
	Media struct {
		UDPPort                int
		TCPPort                int
		PublicIPs              []string
		ICEDisconnectedTimeout time.Duration
		ICEFailedTimeout       time.Duration
	}
	TURN struct {
		UDPPort       int
		TCPPort       int
		TLSPort       int
		TLSCert       string
		TLSKey        string
		Host          string
		RelayIP       string
		Secret        string
		CredentialTTL time.Duration
	}
	Rooms struct {
		MaxParticipants   int
		ReconnectGrace    time.Duration
		AllowUnregistered bool
		MutedJoinFrom     int
		QuietAbove        int
	}
	Database struct {
		URL string
	}
	Limits struct {
		JoinsPerMinute  int
		LoginsPerMinute int
	}
	Auth struct {
		Issuer                string
		ClientID              string
		ClientSecret          string
		RedirectURL           string
		PostLogoutRedirectURL string
		Scopes                []string
		ACRValues             string
		RequiredACR           []string
		Secret                string
		SessionTTL            time.Duration
	}
	Tokens struct {
		Secret string
	}
	Speech struct {
		Engine      string
		Language    string
		Concurrency int
		API         bool
		OpenAI      struct {
			URL         string
			APIKey      string
			Model       string
			Timeout     time.Duration
			Concurrency int
		}
		Sherpa struct {
			ModelsDir string
			Model     string
			VAD       string
		}
		Pocketsphinx struct {
			ModelDir string
		}
	}
	Chat struct {
		MaxFileBytes    int64
		MaxMeetingBytes int64
		FilesDir        string
		S3Endpoint      string
		S3Bucket        string
		S3Region        string
		S3AccessKey     string
		S3SecretKey     string
		S3Prefix        string
	}
	Transcripts struct {
		WebhookURL    string
		WebhookSecret string
	}
	Summary struct {
		URL    string
		APIKey string
		Model  string
	}
	Log struct {
		Level  string
		Format string
	}
	Debug struct {
		PprofAddr string
	}
	Metrics struct {
		Addr string
	}
	Cluster ClusterSettings
}

// setting describes one key: how to read it from text (environment and
// flags), how to print it, and what values are valid.
type setting struct {
	key   string
	help  string
	get   func(*Config) string
	set   func(*Config, string) error
	check func(*Config) error
	list  bool // also accepts a YAML sequence
}

// EnvName returns the environment variable of a key.
func EnvName(key string) string {
	return "VISIO_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func settings() []setting {
	return append([]setting{
		stringSetting("http.addr", "Address and port of the web server (web app, API, signalling).",
			func(c *Config) *string { return &c.HTTP.Addr }, checkHostPort),
		listSetting("http.allowed_origins", "Other origins (host patterns such as visio.example.org) allowed to open a signalling WebSocket; the server's own origin always is.",
			func(c *Config) *[]string { return &c.HTTP.AllowedOrigins }, nil),
		stringSetting("http.tls_cert", "PEM certificate file: with http.tls_key, the web server speaks HTTPS itself (browsers only allow cameras on HTTPS or localhost).",
			func(c *Config) *string { return &c.HTTP.TLSCert }, nil),
		stringSetting("http.tls_key", "PEM private key file for http.tls_cert.",
			func(c *Config) *string { return &c.HTTP.TLSKey }, nil),
		intSetting("media.udp_port", "The one UDP port that carries all media, on every interface.",
			func(c *Config) *int { return &c.Media.UDPPort }, 1, 65535),
		intSetting("media.tcp_port", "TCP port for ICE-TCP, the fallback for networks that block UDP; 0 turns it off.",
			func(c *Config) *int { return &c.Media.TCPPort }, 0, 65535),
		listSetting("media.public_ips", "Public IPv4 addresses to announce instead of the interface addresses, for a server behind 1:1 NAT.",
			func(c *Config) *[]string { return &c.Media.PublicIPs }, checkIPv4),
		durationSetting("media.ice_disconnected_timeout", "Silence after which a media connection counts as disconnected.",
			func(c *Config) *time.Duration { return &c.Media.ICEDisconnectedTimeout }, 500*time.Millisecond, time.Minute),
		durationSetting("media.ice_failed_timeout", "Silence after which a media connection has failed and the participant is removed.",
			func(c *Config) *time.Duration { return &c.Media.ICEFailedTimeout }, time.Second, 5*time.Minute),
		intSetting("turn.udp_port", "UDP port of the embedded TURN server, which relays media for clients that cannot reach the media port directly; 0 turns it off.",
			func(c *Config) *int { return &c.TURN.UDPPort }, 0, 65535),
		intSetting("turn.tcp_port", "TCP port of the embedded TURN server, for networks that let only TCP out; 0 turns it off.",
			func(c *Config) *int { return &c.TURN.TCPPort }, 0, 65535),
		intSetting("turn.tls_port", "TLS port of the embedded TURN server (TURN over TLS, for networks that let only HTTPS out: 443 is best), used when a certificate is configured (turn.tls_cert, or else http.tls_cert); 0 turns it off.",
			func(c *Config) *int { return &c.TURN.TLSPort }, 0, 65535),
		stringSetting("turn.tls_cert", "PEM certificate file for TURN over TLS; empty uses http.tls_cert.",
			func(c *Config) *string { return &c.TURN.TLSCert }, nil),
		stringSetting("turn.tls_key", "PEM private key file for turn.tls_cert.",
			func(c *Config) *string { return &c.TURN.TLSKey }, nil),
		stringSetting("turn.host", "Host name or IP address clients use to reach the TURN server (it must match the TLS certificate); empty uses the host the browser reached Visio at.",
			func(c *Config) *string { return &c.TURN.Host }, checkHost),
		stringSetting("turn.relay_ip", "Address relayed media leaves from towards the media server; the loopback address suits a single machine.",
			func(c *Config) *string { return &c.TURN.RelayIP }, checkIPv4),
		stringSetting("turn.secret", "Secret that signs TURN credentials; empty picks a random one at each start (set the same one on every node of a cluster). Never logged.",
			func(c *Config) *string { return &c.TURN.Secret }, nil),
		durationSetting("turn.credential_ttl", "How long the TURN credentials handed to a participant stay valid: longer than a meeting.",
			func(c *Config) *time.Duration { return &c.TURN.CredentialTTL }, time.Minute, 7*24*time.Hour),
		intSetting("rooms.max_participants", "Most participants in one meeting; 0 means no cap.",
			func(c *Config) *int { return &c.Rooms.MaxParticipants }, 0, 100000),
		intSetting("rooms.muted_join_from", "Who joins a meeting that already has this many people or more starts with the microphone off (and turns it on to speak); 0 never.",
			func(c *Config) *int { return &c.Rooms.MutedJoinFrom }, 0, 100000),
		intSetting("rooms.quiet_above", "The app plays no sound when someone joins, leaves or writes in the chat once a meeting has more than this many people; 0 never plays them.",
			func(c *Config) *int { return &c.Rooms.QuietAbove }, 0, 100000),
		durationSetting("rooms.reconnect_grace", "How long a participant whose connection dropped (a network outage, a change of network) keeps their place, for their app to come back as the same participant.",
			func(c *Config) *time.Duration { return &c.Rooms.ReconnectGrace }, time.Second, 10*time.Minute),
		boolSetting("rooms.allow_unregistered", "Let anyone meet at any room code, as a public room, without the room being created first (for tests and demonstrations; a leaked or guessed link then needs no room).",
			func(c *Config) *bool { return &c.Rooms.AllowUnregistered }),
		stringSetting("database.url", "Where rooms, members and sessions are kept: sqlite:PATH (the default, a file beside the server) or postgres://USER:PASSWORD@HOST/DB for large installs and clusters. The password is never logged.",
			func(c *Config) *string { return &c.Database.URL }, checkDatabaseURL),
		listSetting("http.trusted_proxies", "Addresses or networks (CIDR) of the reverse proxies in front of Visio, whose X-Forwarded-For header says who the client is; the per-address limits then count clients, not the proxy.",
			func(c *Config) *[]string { return &c.HTTP.TrustedProxies }, checkPrefix),
		intSetting("limits.joins_per_minute", "Requests to join a meeting (each knock on a lobby among them) accepted per minute from one address, in bursts of as many; 0 turns the limit off. People behind one NAT share an address.",
			func(c *Config) *int { return &c.Limits.JoinsPerMinute }, 0, 1000000),
		intSetting("limits.logins_per_minute", "Sign-in attempts accepted per minute from one address, in bursts of as many; 0 turns the limit off.",
			func(c *Config) *int { return &c.Limits.LoginsPerMinute }, 0, 1000000),
		stringSetting("auth.issuer", "OpenID Connect provider (issuer URL, such as ProConnect's) through which people sign in; empty turns sign-in off, and then anyone may create rooms.",
			func(c *Config) *string { return &c.Auth.Issuer }, checkOptionalURL),
		stringSetting("auth.client_id", "Client id of Visio at the provider.",
			func(c *Config) *string { return &c.Auth.ClientID }, nil),
		stringSetting("auth.client_secret", "Client secret of Visio at the provider. Never logged.",
			func(c *Config) *string { return &c.Auth.ClientSecret }, nil),
		stringSetting("auth.redirect_url", "Visio's callback URL registered at the provider: https://HOST/auth/callback.",
			func(c *Config) *string { return &c.Auth.RedirectURL }, checkOptionalURL),
		stringSetting("auth.post_logout_redirect_url", "Where the provider sends people back after signing out (registered at the provider); empty uses the home page of auth.redirect_url.",
			func(c *Config) *string { return &c.Auth.PostLogoutRedirectURL }, checkOptionalURL),
		listSetting("auth.scopes", "Scopes asked of the provider (openid is always asked).",
			func(c *Config) *[]string { return &c.Auth.Scopes }, nil),
		stringSetting("auth.acr_values", "acr_values sent to the provider (ProConnect: eidas1), empty for none.",
			func(c *Config) *string { return &c.Auth.ACRValues }, nil),
		listSetting("auth.required_acr", "If set, the authentication levels (acr) accepted; others are refused at sign-in.",
			func(c *Config) *[]string { return &c.Auth.RequiredACR }, nil),
		stringSetting("auth.secret", "Secret (at least 32 characters) that seals sign-in state cookies; the same on every node. Needed with auth.issuer. Never logged.",
			func(c *Config) *string { return &c.Auth.Secret }, checkTokenSecret),
		durationSetting("auth.session_ttl", "How long a sign-in lasts.",
			func(c *Config) *time.Duration { return &c.Auth.SessionTTL }, time.Minute, 30*24*time.Hour),
		stringSetting("tokens.secret", "Secret (at least 32 characters) that signs access tokens, such as those of WHIP and WHEP made by `visio token`; empty turns WHIP and WHEP off. Never logged.",
			func(c *Config) *string { return &c.Tokens.Secret }, checkTokenSecret),
		enumSetting("speech.engine", "Speech-to-text engine for live captions and transcripts: openai (any OpenAI-compatible transcription endpoint, speech.openai.*), sherpa (in-process sherpa-onnx with a model of speech.sherpa.*), pocketsphinx (Debian's, US English only and inaccurate: for trying Visio and tests), or none.",
			func(c *Config) *string { return &c.Speech.Engine }, "none", "openai", "sherpa", "pocketsphinx"),
		enumSetting("speech.language", "Language spoken in rooms that do not choose one, for captions and transcripts.",
			func(c *Config) *string { return &c.Speech.Language }, "fr", "en", "de", "nl"),
		intSetting("speech.concurrency", "Utterances transcribed at once by the whole server; more wait, and captions fall behind before the meeting does. 0: one per CPU core.",
			func(c *Config) *int { return &c.Speech.Concurrency }, 0, 1024),
		boolSetting("speech.api", "Serve the engine to other services as an OpenAI-compatible POST /v1/audio/transcriptions, for API tokens with the speech:transcribe scope.",
			func(c *Config) *bool { return &c.Speech.API }),
		stringSetting("speech.openai.url", "Base URL of the OpenAI-compatible transcription service (whisper.cpp server, faster-whisper, vLLM, another Visio), such as http://whisper:8000.",
			func(c *Config) *string { return &c.Speech.OpenAI.URL }, checkOptionalURL),
		stringSetting("speech.openai.api_key", "Bearer token for speech.openai.url, if it wants one. Never logged.",
			func(c *Config) *string { return &c.Speech.OpenAI.APIKey }, nil),
		stringSetting("speech.openai.model", "Model name sent to speech.openai.url.",
			func(c *Config) *string { return &c.Speech.OpenAI.Model }, nil),
		durationSetting("speech.openai.timeout", "Longest wait for one transcription request before it is retried.",
			func(c *Config) *time.Duration { return &c.Speech.OpenAI.Timeout }, time.Second, 10*time.Minute),
		intSetting("speech.openai.concurrency", "Requests sent at once to speech.openai.url.",
			func(c *Config) *int { return &c.Speech.OpenAI.Concurrency }, 1, 1024),
		stringSetting("speech.sherpa.models_dir", "Directory of speech models (what `visio models pull` fills).",
			func(c *Config) *string { return &c.Speech.Sherpa.ModelsDir }, nil),
		stringSetting("speech.sherpa.model", "Name of the speech-to-text model in speech.sherpa.models_dir used by the sherpa engine.",
			func(c *Config) *string { return &c.Speech.Sherpa.Model }, nil),
		stringSetting("speech.sherpa.vad", "Name of a Silero voice-activity model in speech.sherpa.models_dir (such as silero-vad-v5) that tells speech from silence for every engine; empty uses Visio's own energy detector.",
			func(c *Config) *string { return &c.Speech.Sherpa.VAD }, nil),
		stringSetting("speech.pocketsphinx.model_dir", "Directory of the pocketsphinx model (Debian package pocketsphinx-en-us).",
			func(c *Config) *string { return &c.Speech.Pocketsphinx.ModelDir }, nil),
		sizeSetting("chat.max_file_bytes", "Largest file a participant may share in a meeting's chat; 0 turns file sharing off.",
			func(c *Config) *int64 { return &c.Chat.MaxFileBytes }, 0, 1<<40),
		sizeSetting("chat.max_meeting_bytes", "Most bytes of files one meeting may hold at once; hosts make room by deleting messages with files.",
			func(c *Config) *int64 { return &c.Chat.MaxMeetingBytes }, 0, 1<<44),
		stringSetting("chat.files_dir", "Directory where the files shared in chats are kept while their meeting lasts (each meeting's are removed when it ends, and what a crashed server left when Visio starts).",
			func(c *Config) *string { return &c.Chat.FilesDir }, nil),
		stringSetting("chat.s3_bucket", "Bucket of an S3 object storage where the files shared in chats are kept instead of chat.files_dir, so that every node of a cluster can serve them; empty keeps them in chat.files_dir.",
			func(c *Config) *string { return &c.Chat.S3Bucket }, checkBucket),
		stringSetting("chat.s3_endpoint", "Base URL of the S3-compatible service holding chat.s3_bucket (such as https://s3.fr-par.scw.cloud or http://127.0.0.1:7070); empty uses Amazon S3.",
			func(c *Config) *string { return &c.Chat.S3Endpoint }, checkOptionalURL),
		stringSetting("chat.s3_region", "Region of chat.s3_bucket (S3-compatible services mostly accept any, such as us-east-1).",
			func(c *Config) *string { return &c.Chat.S3Region }, nil),
		stringSetting("chat.s3_access_key", "Access key id for chat.s3_bucket; with chat.s3_secret_key, or both empty to use the environment's credentials (AWS_ACCESS_KEY_ID, an instance role).",
			func(c *Config) *string { return &c.Chat.S3AccessKey }, nil),
		stringSetting("chat.s3_secret_key", "Secret access key for chat.s3_access_key. Never logged.",
			func(c *Config) *string { return &c.Chat.S3SecretKey }, nil),
		stringSetting("chat.s3_prefix", "Start of the keys of the chat's files in chat.s3_bucket, so that the bucket can hold other things; give each Visio installation sharing a bucket its own.",
			func(c *Config) *string { return &c.Chat.S3Prefix }, checkS3Prefix),
		stringSetting("transcripts.webhook_url", "URL that receives each finished transcript as JSON (POST, signed with transcripts.webhook_secret in the Visio-Signature header); empty sends none.",
			func(c *Config) *string { return &c.Transcripts.WebhookURL }, checkOptionalURL),
		stringSetting("transcripts.webhook_secret", "Secret that signs the transcript webhook (HMAC-SHA256). Never logged.",
			func(c *Config) *string { return &c.Transcripts.WebhookSecret }, nil),
		stringSetting("summary.url", "Base URL of an OpenAI-compatible chat completions service that writes a summary of each transcript (short summary, topics, action items); empty writes none.",
			func(c *Config) *string { return &c.Summary.URL }, checkOptionalURL),
		stringSetting("summary.api_key", "Bearer token for summary.url. Never logged.",
			func(c *Config) *string { return &c.Summary.APIKey }, nil),
		stringSetting("summary.model", "Model name sent to summary.url.",
			func(c *Config) *string { return &c.Summary.Model }, nil),
		stringSetting("debug.pprof_addr", "Address (such as 127.0.0.1:6060) where Go's profiler is served, for performance work; empty turns it off. Never expose it publicly.",
			func(c *Config) *string { return &c.Debug.PprofAddr }, checkOptionalHostPort),
		stringSetting("metrics.addr", "Address (such as 127.0.0.1:9180) where Prometheus metrics are served at /metrics, on a listener of their own; empty turns them off. Bind it to a private address.",
			func(c *Config) *string { return &c.Metrics.Addr }, checkOptionalHostPort),
		enumSetting("log.level", "Least important log level written.",
			func(c *Config) *string { return &c.Log.Level }, "debug", "info", "warn", "error"),
		enumSetting("log.format", "Log line format: text for people, json for log collectors.",
			func(c *Config) *string { return &c.Log.Format }, "text", "json"),
	}, clusterSettings()...)
}

// Default returns the built-in settings: a server for one machine, reachable
// from a browser on the same machine.
func Default() *Config {
	c := &Config{}
	c.HTTP.Addr = "127.0.0.1:8080"
	c.HTTP.AllowedOrigins = []string{}
	c.HTTP.TrustedProxies = []string{}
	c.Media.UDPPort = 7882
	c.Media.TCPPort = 7881
	c.Media.PublicIPs = []string{}
	c.Media.ICEDisconnectedTimeout = 5 * time.Second
	c.Media.ICEFailedTimeout = 15 * time.Second
	c.TURN.UDPPort = 3478
	c.TURN.TCPPort = 3478
	c.TURN.TLSPort = 5349
	c.TURN.RelayIP = "127.0.0.1"
	c.TURN.CredentialTTL = 12 * time.Hour
	c.Rooms.MaxParticipants = 200
	c.Rooms.ReconnectGrace = 20 * time.Second
	c.Rooms.MutedJoinFrom = 5
	c.Rooms.QuietAbove = 10
	c.Database.URL = "sqlite:data/visio.db"
	c.Limits.JoinsPerMinute = 300
	c.Limits.LoginsPerMinute = 60
	c.Auth.Scopes = []string{"openid", "email", "given_name", "usual_name"}
	c.Auth.RequiredACR = []string{}
	c.Auth.SessionTTL = 12 * time.Hour
	c.Speech.Engine = "none"
	c.Speech.Language = "fr"
	c.Speech.API = true
	c.Speech.OpenAI.Model = "whisper-1"
	c.Speech.OpenAI.Timeout = time.Minute
	c.Speech.OpenAI.Concurrency = 4
	c.Speech.Sherpa.ModelsDir = "data/models"
	c.Speech.Pocketsphinx.ModelDir = "/usr/share/pocketsphinx/model/en-us"
	c.Chat.MaxFileBytes = 20 << 20
	c.Chat.MaxMeetingBytes = 200 << 20
	c.Chat.FilesDir = "data/files"
	clusterDefaults(c)
	c.Chat.S3Region = "us-east-1"
	c.Chat.S3Prefix = "chat-files/"
	c.Summary.Model = "gpt-4o-mini"
	c.Log.Level = "info"
	c.Log.Format = "text"
	return c
}

// Load reads the settings. args are the command's arguments (without the
// command name); getenv is usually os.LookupEnv. A --config flag or the
// VISIO_CONFIG variable names the YAML file. Load returns flag.ErrHelp when
// args ask for help, after writing the usage to usage.
func Load(args []string, getenv func(string) (string, bool), usage io.Writer) (*Config, error) {
	c := Default()
	all := settings()
	origin := map[string]string{}

	fs := flag.NewFlagSet("visio serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configFile := fs.String("config", "", "YAML configuration file (or VISIO_CONFIG)")
	flagValues := map[string]*string{}
	for _, s := range all {
		flagValues[s.key] = fs.String(s.key, "", s.help)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			PrintUsage(usage)
			return nil, err
		}
		return nil, fmt.Errorf("%w (run `visio serve --help` for the settings)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (run `visio serve --help` for the settings)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	path := *configFile
	if !set["config"] {
		path, _ = getenv("VISIO_CONFIG")
	}
	if path != "" {
		if err := loadFile(c, path, all, origin); err != nil {
			return nil, err
		}
	}
	for _, s := range all {
		if v, ok := getenv(EnvName(s.key)); ok {
			if err := s.set(c, v); err != nil {
				return nil, fmt.Errorf("config: %s (from %s): %w", s.key, EnvName(s.key), err)
			}
			origin[s.key] = EnvName(s.key)
		}
	}
	for _, s := range all {
		if set[s.key] {
			if err := s.set(c, *flagValues[s.key]); err != nil {
				return nil, fmt.Errorf("config: %s (from flag --%s): %w", s.key, s.key, err)
			}
			origin[s.key] = "flag --" + s.key
		}
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		return nil, fmt.Errorf("config: http.tls_cert and http.tls_key go together: set both or neither")
	}
	if (c.TURN.TLSCert == "") != (c.TURN.TLSKey == "") {
		return nil, fmt.Errorf("config: turn.tls_cert and turn.tls_key go together: set both or neither")
	}
	if c.Auth.Issuer != "" && (c.Auth.ClientID == "" || c.Auth.RedirectURL == "" || c.Auth.Secret == "") {
		return nil, fmt.Errorf("config: auth.issuer needs auth.client_id, auth.redirect_url and auth.secret as well")
	}
	if c.Chat.MaxFileBytes > c.Chat.MaxMeetingBytes {
		return nil, fmt.Errorf("config: chat.max_file_bytes (%s) is more than chat.max_meeting_bytes (%s): raise the second or lower the first",
			formatSize(c.Chat.MaxFileBytes), formatSize(c.Chat.MaxMeetingBytes))
	}
	if err := checkChatS3(c); err != nil {
		return nil, err
	}
	if err := checkCluster(c); err != nil {
		return nil, err
	}
	for _, s := range all {
		if s.check == nil {
			continue
		}
		if err := s.check(c); err != nil {
			from := origin[s.key]
			if from == "" {
				from = "default"
			}
			return nil, fmt.Errorf("config: %s (from %s): %w", s.key, from, err)
		}
	}
	return c, nil
}

// loadFile applies a YAML file through the same parsers as variables and
// flags, so that its errors name the key and line at fault.
func loadFile(c *Config, path string, all []setting, origin map[string]string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	byKey := map[string]setting{}
	for _, s := range all {
		byKey[s.key] = s
	}
	return applyNode(c, path, "", doc.Content[0], byKey, origin)
}

func applyNode(c *Config, path, prefix string, n *yaml.Node, byKey map[string]setting, origin map[string]string) error {
	if n.Kind != yaml.MappingNode {
		where := "the file"
		if prefix != "" {
			where = strings.TrimSuffix(prefix, ".")
		}
		return fmt.Errorf("config file %s, line %d: %s must be a mapping of keys to values", path, n.Line, where)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		s, known := byKey[key]
		if !known {
			if !hasPrefix(byKey, key+".") {
				return fmt.Errorf("config file %s, line %d: unknown key %q (keys are listed by `visio serve --help`)", path, k.Line, key)
			}
			if err := applyNode(c, path, key+".", v, byKey, origin); err != nil {
				return err
			}
			continue
		}
		from := fmt.Sprintf("file %s, line %d", path, v.Line)
		origin[key] = from
		var value string
		switch {
		case v.Kind == yaml.ScalarNode:
			value = v.Value
		case s.list && v.Kind == yaml.SequenceNode:
			items := make([]string, 0, len(v.Content))
			for _, item := range v.Content {
				if item.Kind != yaml.ScalarNode {
					return fmt.Errorf("config: %s (from %s): list items must be plain values", key, from)
				}
				items = append(items, item.Value)
			}
			value = strings.Join(items, ",")
		default:
			return fmt.Errorf("config: %s (from %s): expected a single value", key, from)
		}
		if err := s.set(c, value); err != nil {
			return fmt.Errorf("config: %s (from %s): %w", key, from, err)
		}
	}
	return nil
}

func hasPrefix(byKey map[string]setting, prefix string) bool {
	for k := range byKey {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// PrintUsage writes the settings with their defaults and variables.
func PrintUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: visio serve [--config FILE] [--KEY=VALUE ...]\n\n")
	fmt.Fprintf(w, "Every setting can be given in the YAML file, as an environment variable or as a flag;\n")
	fmt.Fprintf(w, "flags win over variables, which win over the file.\n\n")
	def := Default()
	for _, s := range settings() {
		fmt.Fprintf(w, "  --%s (%s, default %q)\n      %s\n", s.key, EnvName(s.key), s.get(def), s.help)
	}
}

// Reference returns the settings as a Markdown table, for the README.
func Reference() string {
	var b strings.Builder
	b.WriteString("| Key (YAML path and flag) | Environment variable | Default | Meaning |\n|---|---|---|---|\n")
	def := Default()
	for _, s := range settings() {
		d := "*none*"
		if v := s.get(def); v != "" {
			d = "`" + v + "`"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", s.key, EnvName(s.key), d, s.help)
	}
	return b.String()
}

// ---- setting kinds ----

func stringSetting(key, help string, field func(*Config) *string, check func(string) error) setting {
	return setting{key: key, help: help,
		get: func(c *Config) string { return *field(c) },
		set: func(c *Config, v string) error { *field(c) = v; return nil },
		check: func(c *Config) error {
			if check == nil {
				return nil
			}
			return check(*field(c))
		},
	}
}

func enumSetting(key, help string, field func(*Config) *string, allowed ...string) setting {
	return stringSetting(key, help+" One of: "+strings.Join(allowed, ", ")+".", field, func(v string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
		}
		return nil
	})
}

func intSetting(key, help string, field func(*Config) *int, low, high int) setting {
	return setting{key: key, help: help,
		get: func(c *Config) string { return strconv.Itoa(*field(c)) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			*field(c) = n
			return nil
		},
		check: func(c *Config) error {
			if n := *field(c); n < low || n > high {
				return fmt.Errorf("%d is outside %d to %d", n, low, high)
			}
			return nil
		},
	}
}

func durationSetting(key, help string, field func(*Config) *time.Duration, low, high time.Duration) setting {
	return setting{key: key, help: help + " A duration such as 500ms, 10s or 1m.",
		get: func(c *Config) string { return field(c).String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 10s", v)
			}
			*field(c) = d
			return nil
		},
		check: func(c *Config) error {
			if d := *field(c); d < low || d > high {
				return fmt.Errorf("%s is outside %s to %s", d, low, high)
			}
			return nil
		},
	}
}

// sizeSetting reads a number of bytes, such as 20MiB, 500KB or 1048576.
func sizeSetting(key, help string, field func(*Config) *int64, low, high int64) setting {
	return setting{key: key, help: help + " A size such as 20MiB, 500KB or 1048576 (bytes).",
		get: func(c *Config) string { return formatSize(*field(c)) },
		set: func(c *Config, v string) error {
			n, err := parseSize(v)
			if err != nil {
				return err
			}
			*field(c) = n
			return nil
		},
		check: func(c *Config) error {
			if n := *field(c); n < low || n > high {
				return fmt.Errorf("%s is outside %s to %s", formatSize(n), formatSize(low), formatSize(high))
			}
			return nil
		},
	}
}

// sizeUnits are the units of sizes, largest first within each family.
var sizeUnits = []struct {
	suffix string
	bytes  int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
}

func parseSize(v string) (int64, error) {
	text := strings.TrimSpace(v)
	unit := int64(1)
	for _, u := range sizeUnits {
		if number, ok := strings.CutSuffix(text, u.suffix); ok {
			text, unit = strings.TrimSpace(number), u.bytes
			break
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/unit {
		return 0, fmt.Errorf("%q is not a size such as 20MiB, 500KB or 1048576", v)
	}
	return n * unit, nil
}

// formatSize writes n in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range sizeUnits[:4] {
		if n != 0 && n%u.bytes == 0 {
			return strconv.FormatInt(n/u.bytes, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// listSetting reads a comma-separated list from text.
func listSetting(key, help string, field func(*Config) *[]string, check func(string) error) setting {
	return setting{key: key, help: help + " Comma-separated in variables and flags.", list: true,
		get: func(c *Config) string { return strings.Join(*field(c), ",") },
		set: func(c *Config, v string) error {
			list := []string{}
			for item := range strings.SplitSeq(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					list = append(list, item)
				}
			}
			*field(c) = list
			return nil
		},
		check: func(c *Config) error {
			if check == nil {
				return nil
			}
			for _, item := range *field(c) {
				if err := check(item); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func checkHostPort(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not host:port (for example 127.0.0.1:8080 or :8080)", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port", v)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil && host != "localhost" {
			return fmt.Errorf("%q: the host must be an IP address or localhost", v)
		}
	}
	return nil
}

func boolSetting(key, help string, field func(*Config) *bool) setting {
	return setting{key: key, help: help,
		get: func(c *Config) string { return strconv.FormatBool(*field(c)) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*field(c) = b
			return nil
		},
	}
}

func checkPrefix(v string) error {
	if _, err := ParsePrefix(v); err != nil {
		return fmt.Errorf("%q is not an IP address or a network such as 10.0.0.0/8", v)
	}
	return nil
}

// ParsePrefix reads an address (a network of one) or a CIDR network.
func ParsePrefix(v string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(v); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(v)
	return p.Masked(), err
}

func checkDatabaseURL(v string) error {
	if strings.HasPrefix(v, "sqlite:") && len(v) > len("sqlite:") ||
		strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		return nil
	}
	return fmt.Errorf("expected sqlite:PATH or postgres://USER:PASSWORD@HOST/DATABASE")
}

func checkOptionalURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", v)
	}
	return nil
}

func checkTokenSecret(v string) error {
	if v != "" && len(v) < 32 {
		return fmt.Errorf("the secret is %d characters long: use at least 32 (for example the output of `openssl rand -base64 32`)", len(v))
	}
	return nil
}

// checkHost accepts an empty value, a host name or an IP address, without
// scheme or port.
func checkHost(v string) error {
	if v == "" {
		return nil
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return nil
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return fmt.Errorf("%q is not a host name or IP address (no scheme, no port)", v)
		}
	}
	return nil
}

func checkOptionalHostPort(v string) error {
	if v == "" {
		return nil
	}
	return checkHostPort(v)
}

func checkIPv4(v string) error {
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is4() {
		return fmt.Errorf("%q is not an IPv4 address", v)
	}
	return nil
}
