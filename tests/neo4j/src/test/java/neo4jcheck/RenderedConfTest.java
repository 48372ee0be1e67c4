package neo4jcheck;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every rendered neo4j.conf through Neo4j 5.26's configuration module (see {@link ConfChecker}). */
class RenderedConfTest {
    private static final List<String> RESULTS = new ArrayList<>();

    @AfterAll
    static void summary() throws Exception {
        Files.write(Inputs.reports().resolve("2-parse.summary"), RESULTS, StandardCharsets.UTF_8);
    }

    @TestFactory
    Stream<DynamicTest> everyRenderedConfParses() throws Exception {
        Catalogue catalogue = Inputs.catalogue();
        Path reports = Inputs.reports();
        return Inputs.confs().stream().map(path -> DynamicTest.dynamicTest(path.getFileName().toString(), () -> {
            ConfFile file = ConfFile.read(path);
            ConfChecker.Report r = ConfChecker.check(file, catalogue);
            List<String> out = new ArrayList<>();
            out.add("# " + file.name() + ": keys Neo4j 5.26 Community does not declare (checked against the catalogue)");
            r.undeclared.forEach(k -> out.add(k + "\t" + catalogue.find(k).map(Catalogue.Entry::edition).orElse("NOT CATALOGUED")));
            out.add("# problems");
            out.addAll(r.problems);
            Files.write(reports.resolve(file.name() + ".parse.txt"), out, StandardCharsets.UTF_8);
            RESULTS.add(String.format("parse  %-44s %s; %d keys not declared by Community, all catalogued as %s",
                    file.name(), r.problems.isEmpty() ? "accepted" : "REFUSED (" + r.problems.size() + " problems)",
                    r.undeclared.size(), r.undeclared.stream()
                            .map(k -> catalogue.find(k).map(Catalogue.Entry::edition).orElse("missing"))
                            .distinct().sorted().toList()));
            assertTrue(r.problems.isEmpty(), file.name() + ":\n  " + String.join("\n  ", r.problems));
        }));
    }
}
