package metricsauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// apiServer answers the guard's reviews as an API server with one valid token per user
// and RBAC allowing GET /metrics to the users in readers, and counts the reviews.
type apiServer struct {
	tokens  map[string]string // token -> user name
	readers map[string]bool
	// fail, while set, is the error every review gets.
	fail          error
	tokenReviews  int
	accessReviews []authorizationv1.SubjectAccessReviewSpec
}

func (s *apiServer) guard(now func() time.Time) *guard {
	client := fake.NewClientset()
	client.PrependReactor("create", "tokenreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		s.tokenReviews++
		if s.fail != nil {
			return true, nil, s.fail
		}
		review := action.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		if name, ok := s.tokens[review.Spec.Token]; ok {
			review.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{
				Username: name, UID: "uid-" + name, Groups: []string{"system:serviceaccounts"},
				Extra: map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"scraper-0"}},
			}}
		} else {
			review.Status = authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}
		}
		return true, review, nil
	})
	client.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if s.fail != nil {
			return true, nil, s.fail
		}
		review := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		s.accessReviews = append(s.accessReviews, review.Spec)
		attrs := review.Spec.NonResourceAttributes
		review.Status.Allowed = s.readers[review.Spec.User] && attrs != nil && attrs.Verb == "get" && attrs.Path == "/metrics"
		return true, review, nil
	})
	return newGuard(client.AuthenticationV1().TokenReviews(), client.AuthorizationV1().SubjectAccessReviews(), now)
}

// get sends GET path with token (none when empty) through the guard and returns the
// status code and whether the metrics handler was reached.
func get(g *guard, token, path string) (int, bool) {
	reached := false
	handler := g.wrap(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached = true
		_, _ = w.Write([]byte("controller_runtime_reconcile_total 1\n"))
	}))
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec.Code, reached
}

func TestGuardAnswersAsTheAPIServerDecides(t *testing.T) {
	g := NewWithT(t)
	server := &apiServer{tokens: map[string]string{"reader-token": "system:serviceaccount:monitoring:prometheus",
		"stranger-token": "system:serviceaccount:ml:stranger"},
		readers: map[string]bool{"system:serviceaccount:monitoring:prometheus": true}}
	guard := server.guard(time.Now)

	code, reached := get(guard, "", "/metrics")
	g.Expect(code).To(Equal(http.StatusUnauthorized), "no token")
	g.Expect(reached).To(BeFalse())
	g.Expect(server.tokenReviews).To(BeZero(), "a request without a token costs no review")

	code, reached = get(guard, "forged", "/metrics")
	g.Expect(code).To(Equal(http.StatusUnauthorized), "a token the API server refuses")
	g.Expect(reached).To(BeFalse())

	code, reached = get(guard, "stranger-token", "/metrics")
	g.Expect(code).To(Equal(http.StatusForbidden), "a valid token of a user without the metrics-reader role")
	g.Expect(reached).To(BeFalse())

	code, reached = get(guard, "reader-token", "/metrics")
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(reached).To(BeTrue())
	g.Expect(server.accessReviews).To(HaveLen(2))
	g.Expect(server.accessReviews[1]).To(Equal(authorizationv1.SubjectAccessReviewSpec{
		User: "system:serviceaccount:monitoring:prometheus", UID: "uid-system:serviceaccount:monitoring:prometheus",
		Groups:                []string{"system:serviceaccounts"},
		Extra:                 map[string]authorizationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"scraper-0"}},
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
	}), "the review asks for the caller's whole identity, the request's verb and its path")

	code, _ = get(guard, "reader-token", "/debug/pprof/")
	g.Expect(code).To(Equal(http.StatusForbidden), "the role grants /metrics, not every path")
}

func TestGuardKeepsAnswersForTheirTime(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	server := &apiServer{tokens: map[string]string{"reader-token": "prometheus", "stranger-token": "stranger"},
		readers: map[string]bool{"prometheus": true}}
	guard := server.guard(func() time.Time { return now })

	for range 3 {
		code, _ := get(guard, "reader-token", "/metrics")
		g.Expect(code).To(Equal(http.StatusOK))
		code, _ = get(guard, "stranger-token", "/metrics")
		g.Expect(code).To(Equal(http.StatusForbidden))
	}
	g.Expect(server.tokenReviews).To(Equal(2), "one token review per token while it is fresh")
	g.Expect(server.accessReviews).To(HaveLen(2), "one access review per user while it is fresh")

	// After 30 s a denial is asked again (the user may have been granted the role), an
	// allowance not; after a minute the tokens are reviewed again (they may be revoked).
	now = now.Add(denyTTL)
	get(guard, "reader-token", "/metrics")
	get(guard, "stranger-token", "/metrics")
	g.Expect(server.accessReviews).To(HaveLen(3))
	g.Expect(server.accessReviews[2].User).To(Equal("stranger"))
	g.Expect(server.tokenReviews).To(Equal(2))
	now = now.Add(tokenTTL)
	get(guard, "reader-token", "/metrics")
	g.Expect(server.tokenReviews).To(Equal(3))
	g.Expect(server.accessReviews).To(HaveLen(3), "the allowance still holds")

	server.readers["stranger"] = true
	now = now.Add(denyTTL)
	code, _ := get(guard, "stranger-token", "/metrics")
	g.Expect(code).To(Equal(http.StatusOK), "a role granted shows once the denial is 30 s old")
}

func TestGuardFailsClosedWhenTheAPIServerCannotAnswer(t *testing.T) {
	g := NewWithT(t)
	server := &apiServer{tokens: map[string]string{"reader-token": "prometheus"}, readers: map[string]bool{"prometheus": true},
		fail: apierrors.NewForbidden(authenticationv1.Resource("tokenreviews"), "", errors.New("the operator lacks the metrics-auth role"))}
	guard := server.guard(time.Now)

	code, reached := get(guard, "reader-token", "/metrics")
	g.Expect(code).To(Equal(http.StatusInternalServerError))
	g.Expect(reached).To(BeFalse())
	g.Expect(server.tokenReviews).To(Equal(1), "a Forbidden answer is not retried")

	server.fail = nil
	code, _ = get(guard, "reader-token", "/metrics")
	g.Expect(code).To(Equal(http.StatusOK), "a failure is not cached")
}

func TestBearerToken(t *testing.T) {
	g := NewWithT(t)
	for header, want := range map[string]string{"Bearer abc": "abc", "bearer abc": "abc", "  Bearer abc  ": "abc",
		"Basic abc": "", "Bearer": "", "": "", "Bearer  abc": ""} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Authorization", header)
		token, ok := bearerToken(req)
		g.Expect(token).To(Equal(want), "header %q", header)
		g.Expect(ok).To(Equal(want != ""), "header %q", header)
	}
}
