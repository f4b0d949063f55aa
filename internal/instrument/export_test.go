package instrument

// Load exposes the catalogue loader to the black-box tests so that they can
// feed it deliberately broken form files.
var Load = load

// Empty is a catalogue without forms, for tests of definitions alone.
func Empty() *Catalogue {
	return &Catalogue{forms: map[string]*Form{}, latest: map[string]string{}, families: map[string]bool{}}
}
