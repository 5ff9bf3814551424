// Package identity says who the user of a request is.
//
// Signed-in users come from an OpenID Connect provider (ProConnect in
// production) through the authorization code flow with PKCE (S256), a nonce
// and a state. The short-lived login state travels in an AES-GCM-sealed
// cookie, so any node of a cluster can finish a login another node started,
// given the same Config.Secret. A completed login becomes a server-side
// session: the browser holds a random 256-bit token, the Store holds only its
// SHA-256, so a leaked database cannot be replayed as cookies and revoking a
// row signs the user out at once, everywhere.
//
// Guests are not signed in: they get a validated display name (GuestName)
// and a stable random id in a cookie (GuestID), which is enough for a
// host to ban "this browser" from a room.
package identity
