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
