package identity

import (
	"encoding/json"
	"errors"
	"time"
)

// loginState is what the browser carries between Login and Callback. It
// is sealed, so the browser can neither read the nonce and verifier nor
// change where it is sent afterwards.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"next"`
	// Expires is checked on open: the cookie's own Max-Age is only a
	// request to the browser.
	Expires int64 `json:"exp"`
}

// loginStateTTL bounds how long a user may sit on the provider's login
// page before the attempt is void.
const loginStateTTL = 10 * time.Minute

var (
	errStateExpired = errors.New("login state expired")
	errStateInvalid = errors.New("login state invalid")
)

func (s sealer) sealState(st loginState) string {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err) // only strings and an int: cannot fail
	}
	return s.seal(stateCookie, b)
}

func (s sealer) openState(value string, now time.Time) (loginState, error) {
	b, err := s.open(stateCookie, value)
	if err != nil {
		return loginState{}, err
	}
	var st loginState
	if err := json.Unmarshal(b, &st); err != nil {
		return loginState{}, errStateInvalid
	}
	if st.State == "" || st.Nonce == "" || st.Verifier == "" {
		return loginState{}, errStateInvalid
	}
	if now.Unix() >= st.Expires {
		return loginState{}, errStateExpired
	}
	return st, nil
}
