package snowflake

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretSource fetches a secret's value by name.
type SecretSource interface {
	Secret(ctx context.Context, name string) ([]byte, error)
}

// EnvSecrets reads a secret from the environment variable of its name or,
// when that is unset, from the file named by NAME_FILE. For local use.
type EnvSecrets struct {
	// Getenv defaults to os.Getenv.
	Getenv func(string) string
}

// Secret returns $name, or the contents of the file $name_FILE.
func (e EnvSecrets) Secret(_ context.Context, name string) ([]byte, error) {
	getenv := e.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv(name); v != "" {
		return []byte(v), nil
	}
	if path := getenv(name + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading secret %s from %s: %w", name, path, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("reading secret %s: neither %s nor %s_FILE is set", name, name, name)
}

// secretsManagerAPI is the one Secrets Manager call this package makes.
type secretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManager reads secrets (by name or ARN) from AWS Secrets Manager.
type SecretsManager struct {
	client secretsManagerAPI
}

// NewSecretsManager reads secrets with client (for example
// secretsmanager.NewFromConfig(cfg)).
func NewSecretsManager(client secretsManagerAPI) *SecretsManager {
	return &SecretsManager{client: client}
}

// Secret returns the secret's current string value (or binary value).
func (s *SecretsManager) Secret(ctx context.Context, name string) ([]byte, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("getting secret %s from secrets manager: %w", name, err)
	}
	if out.SecretString != nil {
		return []byte(*out.SecretString), nil
	}
	if out.SecretBinary != nil {
		return out.SecretBinary, nil
	}
	return nil, fmt.Errorf("getting secret %s from secrets manager: it has no value", name)
}

// ParsePrivateKey decodes a PEM "PRIVATE KEY" block (PKCS#8) holding an
// RSA key, the form Snowflake key-pair authentication uses.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("parsing private key: no PEM block")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("parsing private key: PEM block is %q, want \"PRIVATE KEY\" (unencrypted PKCS#8)", block.Type)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parsing private key: %T is not an RSA key", key)
	}
	return rsaKey, nil
}
