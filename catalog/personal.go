package catalog

import "slices"

// personalFields lists, for each entity that is a person, the fields of its
// data that are personal data: what identifies or locates the person. It
// includes fields the schemas do not list (date_of_birth, address, ...)
// because schemas allow extra properties and ATSs send them.
//
// Deliberately not listed: id and external_refs (needed to correlate, and
// meaningless without the record API), status, tags, source, timestamps, and
// custom_fields (free-form; an endpoint that must not see them redacts
// ".data.custom_fields" explicitly). Users (recruiters, owners,
// interviewers) are the agency's own staff and are not covered.
var personalFields = map[string][]string{
	"candidate": {
		"first_name", "last_name", "name", "email", "emails", "phone", "phones",
		"urls", "location", "address", "date_of_birth", "birth_date", "gender",
		"nationality", "photo_url", "resume_url",
	},
	"contact": {
		"first_name", "last_name", "name", "email", "emails", "phone", "phones",
		"address",
	},
}

// personalEmbeds lists, for each entity, the properties of its data that
// hold a summary of a person entity (the schemas' candidate_summary and
// contact_summary), and which entity that is. A test checks this table
// against the schemas.
var personalEmbeds = map[string][]personalEmbed{
	"application": {{"candidate", "candidate"}},
	"interview":   {{"candidate", "candidate"}},
	"offer":       {{"candidate", "candidate"}},
	"placement":   {{"candidate", "candidate"}, {"contact", "contact"}},
}

type personalEmbed struct {
	property, entity string
}

// PersonalPaths returns the paths, relative to an event's data, of the
// personal fields of entity's data: the fields of the person itself when the
// entity is a person (candidate, contact: [["email"], ["phone"], ...]) and
// those of the people it embeds otherwise (placement: [["candidate",
// "email"], ["contact", "email"], ...]). It returns nil for an entity that
// holds no personal data (job, job_posting, client, ...). The caller owns the
// result.
func (c *Catalog) PersonalPaths(entity string) [][]string {
	var paths [][]string
	for _, f := range personalFields[entity] {
		paths = append(paths, []string{f})
	}
	for _, e := range personalEmbeds[entity] {
		for _, f := range personalFields[e.entity] {
			paths = append(paths, []string{e.property, f})
		}
	}
	return paths
}

// personalSummaryDefs names the schema definitions that summarise a person,
// and the entity each summarises; the catalog test checks that every
// property referring to one is in personalEmbeds.
var personalSummaryDefs = map[string]string{
	"#/$defs/candidate_summary": "candidate",
	"#/$defs/contact_summary":   "contact",
}

func hasPersonalField(entity, field string) bool {
	return slices.Contains(personalFields[entity], field)
}
