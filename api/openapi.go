package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	swaggerFiles "github.com/swaggo/files"
	ginSwagger "github.com/swaggo/gin-swagger"

	"github.com/alliance-project/alliance/docs"
)

// openAPI serves the OpenAPI 3 document generated from the handler
// annotations and the endpoint table (docs/openapi.json, embedded), so the
// published contract is always the built one.
func (s *server) openAPI(c *gin.Context) error {
	c.Data(http.StatusOK, "application/json", docs.OpenAPI)
	return nil
}

// docsUI serves the Swagger UI from assets embedded in the binary (no
// requests to the internet), pointed at /openapi.json.
func docsUI() gin.HandlerFunc {
	h := ginSwagger.WrapHandler(swaggerFiles.Handler, ginSwagger.URL("/openapi.json"), ginSwagger.DocExpansion("list"))
	return func(c *gin.Context) {
		// People paste keys into this page: it is never framed (no
		// clickjacking of the authorize dialog) and sends no Referer.
		// Its scripts are Swagger UI's own, inline ones included, so the
		// policy restricts framing only.
		c.Header("Content-Security-Policy", "frame-ancestors 'none'")
		c.Header("X-Frame-Options", "DENY")
		c.Header("Referrer-Policy", "no-referrer")
		switch c.Param("any") {
		case "/":
			c.Redirect(http.StatusFound, "/docs/index.html")
			return
		case "/doc.json":
			// gin-swagger would serve swag's intermediate Swagger 2.0
			// document here; the service publishes one document.
			c.Redirect(http.StatusMovedPermanently, "/openapi.json")
			return
		}
		h(c)
	}
}

// IndexResponse points a caller who found the server at its documentation.
type IndexResponse struct {
	Name    string `json:"name" example:"alliance API"`
	Docs    string `json:"docs" example:"/docs/"`
	OpenAPI string `json:"openapi" example:"/openapi.json"`
}

// indexPage is the same links for a person with a browser.
const indexPage = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>alliance API</title>
<h1>alliance API</h1>
<ul>
<li><a href="/docs/">API documentation</a> (Swagger UI)</li>
<li><a href="/openapi.json">OpenAPI 3 document</a></li>
</ul>
</html>
`

// index godoc
//
//	@Summary		Where the API is documented
//	@Description	Links to the browsable documentation and the OpenAPI 3 document, so the server's address answers with something useful. A browser (Accept: text/html first) gets the same links as a small HTML page.
//	@Tags			docs
//	@Produce		json,html
//	@Success		200	{object}	IndexResponse
//	@ID				getIndex
//	@Router			/ [get]
func (s *server) index(c *gin.Context) error {
	if c.NegotiateFormat(gin.MIMEJSON, gin.MIMEHTML) == gin.MIMEHTML {
		c.Header("Content-Security-Policy", "default-src 'none'")
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(indexPage))
		return nil
	}
	c.JSON(http.StatusOK, IndexResponse{Name: "alliance API", Docs: "/docs/", OpenAPI: "/openapi.json"})
	return nil
}
