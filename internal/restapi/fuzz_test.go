package restapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

// FuzzRoomChange feeds request bodies to the room change parser: whatever
// a client sends gets a clear 4xx error or a room whose values are all
// valid, never a panic.
func FuzzRoomChange(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Comité","access":"trusted","max_participants":50,"publishing":{"microphone":true,"camera":false,"screen":false}}`,
		`{"access":"secret"}`, `{"max_participants":-1}`, `{"name":"a\u0001b"}`, `{"unknown":1}`, `{`, ``, `[]`, `null`,
		`{"publishing":{"microphone":"yes"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPatch, "/api/v1/rooms/abc-defg-hij", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var c roomChange
		rm := store.Room{Settings: room.Settings{Access: room.Public}}
		ae := readJSON(r, &c)
		if ae == nil {
			ae = c.apply(&rm)
		}
		if ae != nil {
			if ae.status < 400 || ae.status >= 500 || ae.message == "" {
				t.Fatalf("error %+v for %q", ae, body)
			}
			return
		}
		if _, err := room.ParseAccess(string(rm.Settings.Access)); err != nil || rm.Settings.MaxParticipants < 0 {
			t.Fatalf("accepted %q into an invalid room %+v", body, rm.Settings)
		}
	})
}

func TestOversizedBodiesAreRefused(t *testing.T) {
	big := append([]byte(`{"name":"`), bytes.Repeat([]byte("a"), maxBody)...)
	big = append(big, `"}`...)
	r := httptest.NewRequest(http.MethodPost, "/api/v1/rooms", bytes.NewReader(big))
	var c roomChange
	if ae := readJSON(r, &c); ae == nil || ae.status != http.StatusBadRequest {
		t.Fatalf("a body over %d bytes: %v", maxBody, ae)
	}
}
