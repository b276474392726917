// Package metricsauth lets only callers that the API server authenticates and authorizes
// read the manager's metrics endpoint, as kube-rbac-proxy and controller-runtime's
// filters.WithAuthenticationAndAuthorization do: the caller's bearer token is checked with
// a TokenReview, then its user with a SubjectAccessReview for the request's verb and
// non-resource path (GET /metrics, which the metrics-reader ClusterRole grants).
//
// controller-runtime's filter delegates to k8s.io/apiserver's authenticator and authorizer
// factories. Those pull the API server's authentication configuration, CEL, gRPC and
// OpenTelemetry into the binary: 30 MB of its 78 MB and about 13 MiB of every manager's
// resident memory, paid for two API calls per scrape. This package makes the same two
// calls with client-go and caches their answers for the same times.
package metricsauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	authenticationclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// The times answers are kept, those of controller-runtime's filter: an authenticated (or
// refused) token for a minute, an allowed request for 5 minutes, a denied one for 30 s.
const (
	tokenTTL   = time.Minute
	allowTTL   = 5 * time.Minute
	denyTTL    = 30 * time.Second
	reviewWait = 10 * time.Second
	// cacheLimit bounds each cache: a scraper or two call the endpoint, not thousands.
	cacheLimit = 1024
)

// backoff retries a review the API server could not answer, as the API server's own
// webhook authenticator and authorizer do.
var backoff = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}

// WithAuthenticationAndAuthorization is a metrics server FilterProvider
// (metricsserver.Options.FilterProvider): requests without a valid token get 401, those of
// a user not allowed the verb on the path 403, and reviews that fail 500.
func WithAuthenticationAndAuthorization(config *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	authn, err := authenticationclient.NewForConfigAndClient(config, httpClient)
	if err != nil {
		return nil, err
	}
	authz, err := authorizationclient.NewForConfigAndClient(config, httpClient)
	if err != nil {
		return nil, err
	}
	g := newGuard(authn.TokenReviews(), authz.SubjectAccessReviews(), time.Now)
	return func(log logr.Logger, handler http.Handler) (http.Handler, error) {
		return g.wrap(log, handler), nil
	}, nil
}

// guard checks requests and caches the API server's answers.
type guard struct {
	tokens authenticationclient.TokenReviewInterface
	access authorizationclient.SubjectAccessReviewInterface
	now    func() time.Time

	mu        sync.Mutex
	users     map[[sha256.Size]byte]entry[*authenticationv1.UserInfo]
	decisions map[string]entry[bool]
}

// entry is a cached answer and when it stops counting.
type entry[T any] struct {
	value   T
	expires time.Time
}

func newGuard(tokens authenticationclient.TokenReviewInterface, access authorizationclient.SubjectAccessReviewInterface, now func() time.Time) *guard {
	return &guard{tokens: tokens, access: access, now: now,
		users:     map[[sha256.Size]byte]entry[*authenticationv1.UserInfo]{},
		decisions: map[string]entry[bool]{}}
}

func (g *guard) wrap(log logr.Logger, handler http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		token, ok := bearerToken(req)
		if !ok {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		user, err := g.authenticate(req.Context(), token)
		if err != nil {
			log.Error(err, "Authentication failed")
			http.Error(w, "Authentication failed", http.StatusInternalServerError)
			return
		}
		if user == nil {
			log.V(4).Info("Authentication failed")
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		verb := strings.ToLower(req.Method)
		allowed, err := g.authorize(req.Context(), user, verb, req.URL.Path)
		if err != nil {
			msg := fmt.Sprintf("Authorization for user %s failed", user.Username)
			log.Error(err, msg)
			http.Error(w, msg, http.StatusInternalServerError)
			return
		}
		if !allowed {
			msg := fmt.Sprintf("Authorization denied for user %s", user.Username)
			log.V(4).Info(msg, "verb", verb, "path", req.URL.Path)
			http.Error(w, msg, http.StatusForbidden)
			return
		}
		handler.ServeHTTP(w, req)
	})
}

// bearerToken reads "Authorization: Bearer TOKEN" as the API server does.
func bearerToken(req *http.Request) (string, bool) {
	parts := strings.SplitN(strings.TrimSpace(req.Header.Get("Authorization")), " ", 3)
	if len(parts) < 2 || !strings.EqualFold(parts[0], "bearer") || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}

// authenticate returns the token's user, or nil when the API server does not accept the
// token. Only the token's hash is kept.
func (g *guard) authenticate(ctx context.Context, token string) (*authenticationv1.UserInfo, error) {
	key := sha256.Sum256([]byte(token))
	if user, ok := lookup(g, g.users, key); ok {
		return user, nil
	}
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	answer, err := send(ctx, func(ctx context.Context) (*authenticationv1.TokenReview, error) {
		return g.tokens.Create(ctx, review, metav1.CreateOptions{})
	})
	if err != nil {
		return nil, fmt.Errorf("reviewing the token: %w", err)
	}
	var user *authenticationv1.UserInfo
	if answer.Status.Authenticated {
		user = answer.Status.User.DeepCopy()
	}
	store(g, g.users, key, user, tokenTTL)
	return user, nil
}

// authorize tells whether user may do verb on the non-resource path.
func (g *guard) authorize(ctx context.Context, user *authenticationv1.UserInfo, verb, path string) (bool, error) {
	key := fmt.Sprintf("%q %q %q %q %q %v", user.Username, user.UID, user.Groups, verb, path, user.Extra)
	if allowed, ok := lookup(g, g.decisions, key); ok {
		return allowed, nil
	}
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
	}}
	answer, err := send(ctx, func(ctx context.Context) (*authorizationv1.SubjectAccessReview, error) {
		return g.access.Create(ctx, review, metav1.CreateOptions{})
	})
	if err != nil {
		return false, fmt.Errorf("reviewing access of %s to %s %s: %w", user.Username, verb, path, err)
	}
	allowed := answer.Status.Allowed && !answer.Status.Denied
	ttl := denyTTL
	if allowed {
		ttl = allowTTL
	}
	store(g, g.decisions, key, allowed, ttl)
	return allowed, nil
}

// send creates a review, each try bounded by reviewWait, and retries it with backoff
// while the request that asked is still waiting.
func send[T any](ctx context.Context, create func(context.Context) (T, error)) (T, error) {
	var answer T
	err := retry.OnError(backoff, func(err error) bool { return ctx.Err() == nil && retriable(err) }, func() error {
		tryCtx, cancel := context.WithTimeout(ctx, reviewWait)
		defer cancel()
		var err error
		answer, err = create(tryCtx)
		return err
	})
	return answer, err
}

// retriable tells whether a review failed for a reason that may pass: anything but an
// answer that the request itself is wrong or not permitted.
func retriable(err error) bool {
	return !apierrors.IsBadRequest(err) && !apierrors.IsForbidden(err) && !apierrors.IsUnauthorized(err) &&
		!apierrors.IsInvalid(err) && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err)
}

func lookup[K comparable, V any](g *guard, cache map[K]entry[V], key K) (V, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := cache[key]
	if !ok || !g.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// store keeps value for ttl. A full cache first drops what expired, and is emptied if
// that was not enough.
func store[K comparable, V any](g *guard, cache map[K]entry[V], key K, value V, ttl time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if len(cache) >= cacheLimit {
		for k, e := range cache {
			if !now.Before(e.expires) {
				delete(cache, k)
			}
		}
		if len(cache) >= cacheLimit {
			clear(cache)
		}
	}
	cache[key] = entry[V]{value: value, expires: now.Add(ttl)}
}
