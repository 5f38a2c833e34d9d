package snowpipe

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// KeyFingerprint is the public key's fingerprint as Snowflake shows it in
// DESCRIBE USER (RSA_PUBLIC_KEY_FP): "SHA256:" and the standard base64 of
// the SHA-256 of the DER (PKIX) public key.
func KeyFingerprint(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.StdEncoding.EncodeToString(sum[:]), nil
}

// JWTAccount is the account name a key-pair JWT carries: the identifier
// before its first dot (a locator's region is left out), upper-cased.
func JWTAccount(account string) string {
	if i := strings.IndexByte(account, '.'); i > 0 {
		account = account[:i]
	}
	return strings.ToUpper(account)
}

// jwtClaims are the claims Snowflake's key-pair authentication reads.
type jwtClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// signJWT returns an RS256 JWT for account and user, valid from now for
// lifetime, signed with key (fp is its KeyFingerprint).
func signJWT(key *rsa.PrivateKey, fp, account, user string, now time.Time, lifetime time.Duration) (string, error) {
	acct, usr := JWTAccount(account), strings.ToUpper(user)
	claims, err := json.Marshal(jwtClaims{
		Iss: acct + "." + usr + "." + fp,
		Sub: acct + "." + usr,
		Iat: now.Unix(),
		Exp: now.Add(lifetime).Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("encoding JWT claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing JWT: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// NormalizeIngestHost turns the Get Hostname answer into the host to call:
// surrounding space and quotes trimmed, and underscores replaced with
// dashes (Snowflake's REST tutorial: an account name with underscores
// makes the returned host fail until they are dashes, for the scoped token
// too).
func NormalizeIngestHost(h string) (string, error) {
	h = strings.Trim(strings.TrimSpace(h), `"`)
	if h == "" {
		return "", fmt.Errorf("empty ingest hostname")
	}
	if strings.ContainsAny(h, "/ ?#@") {
		return "", fmt.Errorf("ingest hostname %q is not a host name", h)
	}
	return strings.ReplaceAll(h, "_", "-"), nil
}

// scalarField reads a response that the reference documents as a JSON
// object {"<field>": "..."} and that Snowflake's tutorial and other clients
// read as the bare value: both are accepted.
func scalarField(body []byte, field string) (string, error) {
	b := bytes.TrimSpace(body)
	switch {
	case len(b) == 0:
		return "", fmt.Errorf("empty response")
	case b[0] == '{':
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return "", fmt.Errorf("decoding response: %w", err)
		}
		v, ok := m[field].(string)
		if !ok || v == "" {
			return "", fmt.Errorf("response has no %q string", field)
		}
		return v, nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", fmt.Errorf("decoding response: %w", err)
		}
		return s, nil
	}
	return string(b), nil
}

// refreshMargin is how long before expiry the scoped token is renewed.
func (c *Client) refreshMargin() time.Duration {
	return min(5*time.Minute, c.cfg.JWTLifetime/4)
}

// ingest returns the ingest host and a scoped token for it, discovering
// the host and exchanging a fresh JWT when the token is missing or near
// its expiry. The scoped token's lifetime is not documented: it is taken
// to be the JWT's, and a 401 from the ingest host renews it at once.
func (c *Client) ingest(ctx context.Context) (host, token string, err error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	now := c.cfg.Now()
	if c.scoped != "" && now.Add(c.refreshMargin()).Before(c.scopedExp) {
		return c.ingestHost, c.scoped, nil
	}
	jwt, err := signJWT(c.cfg.Key, c.fp, c.cfg.Account, c.cfg.User, now, c.cfg.JWTLifetime)
	if err != nil {
		return "", "", err
	}
	if c.ingestHost == "" {
		var h string
		err := c.retry(ctx, func() error {
			body, err := c.control(ctx, "get hostname", http.MethodGet, "/v2/streaming/hostname", jwt, "", nil)
			if err != nil {
				return err
			}
			v, err := scalarField(body, "hostname")
			if err == nil {
				h, err = NormalizeIngestHost(v)
			}
			if err != nil {
				return fmt.Errorf("snowpipe get hostname from %s: %w", c.cfg.AccountURL, permanent(err))
			}
			return nil
		})
		if err != nil {
			return "", "", err
		}
		c.ingestHost = h
	}
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"scope":      {c.ingestHost},
	}.Encode()
	var tok string
	err = c.retry(ctx, func() error {
		body, err := c.control(ctx, "exchange scoped token", http.MethodPost, "/oauth/token", jwt,
			"application/x-www-form-urlencoded", []byte(form))
		if err != nil {
			return err
		}
		tok, err = scalarField(body, "token")
		if err != nil {
			return fmt.Errorf("snowpipe exchange scoped token at %s: %w", c.cfg.AccountURL, permanent(err))
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	c.scoped, c.scopedExp = strings.TrimSpace(tok), now.Add(c.cfg.JWTLifetime)
	return c.ingestHost, c.scoped, nil
}

// dropToken forgets token (after a 401) so the next call exchanges anew.
func (c *Client) dropToken(token string) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.scoped == token {
		c.scoped = ""
	}
}

// control calls the account host with the JWT. A 401 here is final: the
// JWT was just minted, so the key, user or account is wrong.
func (c *Client) control(ctx context.Context, op, method, path, jwt, contentType string, body []byte) ([]byte, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+jwt)
	if path == "/v2/streaming/hostname" {
		h.Set("X-Snowflake-Authorization-Token-Type", "KEYPAIR_JWT")
	}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	res, err := c.roundTrip(ctx, method, c.cfg.AccountURL+path, h, body)
	if err != nil {
		return nil, fmt.Errorf("snowpipe %s at %s: %w", op, c.cfg.AccountURL, err)
	}
	if res.status/100 != 2 {
		return nil, res.apiError(op, c.cfg.AccountURL, "")
	}
	return res.body, nil
}
