package instrument

// Load exposes the catalogue loader to the black-box tests so that they can
// feed it deliberately broken form files.
var Load = load
