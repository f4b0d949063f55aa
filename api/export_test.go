package api

// RouteAccess is one row of the endpoint table as the authorization
// matrix test sees it.
type RouteAccess struct {
	Method, Path   string
	Public, Survey bool
	Scopes         []string
	// AnyQuery is set on the routes that take any query parameters
	// (static pages and their assets).
	AnyQuery bool
}

// Routes lists the endpoint table: the authorization matrix is generated
// from it.
func Routes() []RouteAccess {
	var out []RouteAccess
	for _, e := range (&server{metrics: newMetrics()}).endpoints() {
		ra := RouteAccess{Method: e.method, Path: e.path, Public: e.access.public, Survey: e.access.survey,
			AnyQuery: len(e.query) == 1 && e.query[0] == "*"}
		for _, sc := range e.access.scopes {
			ra.Scopes = append(ra.Scopes, string(sc))
		}
		out = append(out, ra)
	}
	return out
}
