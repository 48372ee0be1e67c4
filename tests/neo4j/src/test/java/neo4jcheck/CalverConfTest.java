package neo4jcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The neo4j.conf rendered for a CalVer image against the CalVer settings catalogue (no CalVer
 * Neo4j runs here): every key documented and not removed or renamed, no key twice (the JVM lines
 * aside), every value accepted by Neo4j's parser for the catalogued type.
 */
class CalverConfTest {
    private static final List<String> RESULTS = new ArrayList<>();

    @AfterAll
    static void summary() throws Exception {
        Files.write(Inputs.reports().resolve("4-calver.summary"), RESULTS, StandardCharsets.UTF_8);
    }

    @TestFactory
    Stream<DynamicTest> everyCalverConfIsCatalogued() throws Exception {
        Catalogue catalogue = Inputs.calverCatalogue();
        assertEquals("calver", catalogue.releaseLine);
        return Inputs.calverConfs().stream().map(path -> DynamicTest.dynamicTest(path.getFileName().toString(), () -> {
            ConfFile file = ConfFile.read(path);
            List<String> problems = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (ConfFile.Line l : file.lines) {
                if (!seen.add(l.key()) && !l.key().equals("server.jvm.additional")) {
                    problems.add(l.key() + ": declared more than once");
                }
            }
            for (String k : file.keys()) {
                if (catalogue.removed.containsKey(k)) {
                    problems.add(k + ": removed in CalVer" + (catalogue.removed.get(k).isEmpty() ? ""
                            : " (replaced by " + catalogue.removed.get(k) + ")"));
                    continue;
                }
                if (catalogue.renamed.containsKey(k)) {
                    problems.add(k + ": renamed to " + catalogue.renamed.get(k) + " in CalVer");
                    continue;
                }
                var entry = catalogue.find(k);
                if (entry.isEmpty()) {
                    problems.add(k + ": not in the CalVer catalogue");
                    continue;
                }
                String p = ConfChecker.checkValue(entry.get().type(), file.value(k));
                if (p != null) {
                    problems.add(k + "=" + file.value(k) + ": " + p);
                }
            }
            RESULTS.add(String.format("calver %-44s %s", file.name(),
                    problems.isEmpty() ? "every key catalogued, values parse" : "REFUSED: " + problems));
            assertTrue(problems.isEmpty(), file.name() + ":\n  " + String.join("\n  ", problems));
        }));
    }
}
