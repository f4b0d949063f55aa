package api

// RouteAccess is one row of the endpoint table as the authorization
// matrix test sees it.
type RouteAccess struct {
	Method, Path   string
	Public, Survey bool
	// Session: a dashboard session cookie authenticates; Page: a dashboard
	// page (cookie only, refusals redirect to sign-in).
	Session, Page bool
	Scopes        []string
}

// Routes lists the endpoint table: the authorization matrix is generated
// from it.
func Routes() []RouteAccess {
	var out []RouteAccess
	for _, e := range (&server{metrics: newMetrics()}).endpoints() {
		ra := RouteAccess{Method: e.method, Path: e.path, Public: e.access.public, Survey: e.access.survey,
			Session: e.access.session, Page: e.access.page}
		for _, sc := range e.access.scopes {
			ra.Scopes = append(ra.Scopes, string(sc))
		}
		out = append(out, ra)
	}
	return out
}
