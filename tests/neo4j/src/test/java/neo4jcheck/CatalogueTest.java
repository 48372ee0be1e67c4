package neo4jcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neo4j.kernel.internal.Version;

/**
 * The 5.26 settings catalogue (generated from the documentation) against what Neo4j 5.26
 * Community itself declares: every public Community setting must be catalogued with a
 * compatible type. Internal settings (`internal.*` or marked internal) are not documented and
 * are left out. Default values that differ are reported, not failed: the documentation tracks
 * the newest 5.26 patch, the artifacts here are 5.26.0.
 */
class CatalogueTest {
    @Test
    void everyPublicCommunitySettingIsCataloguedWithACompatibleType() throws Exception {
        Catalogue catalogue = Inputs.catalogue();
        assertEquals("5.26", catalogue.releaseLine, "the check runs Neo4j 5.26; use the 5.26 catalogue");
        DeclaredSettings.Listing listing0 = DeclaredSettings.all();
        assertTrue(listing0.unlistedGroups().isEmpty(), "groups not listed: " + listing0.unlistedGroups());
        List<DeclaredSettings.Declared> declared = listing0.settings();
        Path reports = Inputs.reports();

        List<String> listing = new ArrayList<>();
        listing.add(DeclaredSettings.TSV_HEADER);
        declared.forEach(d -> listing.add(d.tsv()));
        Path listed = reports.resolve("community-settings-" + Version.getNeo4jVersion() + ".tsv");
        Files.write(listed, listing, StandardCharsets.UTF_8);

        List<String> missing = new ArrayList<>();
        List<String> incompatible = new ArrayList<>();
        List<String> defaults = new ArrayList<>();
        int checked = 0;
        for (DeclaredSettings.Declared d : declared) {
            if (d.internal()) {
                continue;
            }
            checked++;
            var entry = catalogue.find(d.name());
            if (entry.isEmpty()) {
                missing.add(d.name() + " (" + d.validValues() + ")");
                continue;
            }
            Kinds.Kind have = d.kind();
            Kinds.Kind want = Kinds.ofCatalogue(entry.get().type());
            if (!Kinds.compatible(have, want)) {
                incompatible.add(d.name() + ": Neo4j declares " + have + " (" + d.validValues() + "), catalogue says "
                        + want);
            }
            String documented = entry.get().defaultValue();
            if (entry.get().regex() == null && !same(d.defaultValue(), documented)) {
                defaults.add(d.name() + "\tdeclared=" + d.defaultValue() + "\tdocumented=" + documented);
            }
        }
        Files.write(reports.resolve("default-differences-5.26.tsv"), defaults, StandardCharsets.UTF_8);
        Files.writeString(reports.resolve("1-catalogue.summary"), String.format(
                "catalogue: Neo4j %s Community declares %d settings, %d public; %d missing from the %d-entry catalogue,"
                        + " %d with another type; %d defaults differ from the documentation"
                        + " (default-differences-5.26.tsv); listing: %s%n",
                Version.getNeo4jVersion(), declared.size(), checked, missing.size(), catalogue.size(),
                incompatible.size(), defaults.size(), listed.getFileName()));

        assertTrue(checked > 100, "suspiciously few public settings declared: " + checked);
        assertTrue(missing.isEmpty(), "declared by Neo4j 5.26 Community but not in the catalogue:\n  "
                + String.join("\n  ", missing));
        assertTrue(incompatible.isEmpty(), "types differ:\n  " + String.join("\n  ", incompatible));
    }

    private static boolean same(String declared, String documented) {
        if (declared == null || declared.isEmpty()) {
            return documented == null || documented.isEmpty();
        }
        return documented != null && declared.strip().equals(documented.strip());
    }
}
