package neo4jcheck;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseSettings;

/**
 * The admission rule `config-value` against Neo4j 5.26's own parser: `render-confs` writes, for
 * a list of setting values, whether the operator's settings catalogue accepts each
 * (`value-corpus.tsv`); Neo4j must agree on every row, or admission would refuse a value Neo4j
 * takes, or let through one that stops the server.
 */
class ValueCorpusTest {
    @Test
    void neo4jAgreesWithEveryVerdictOfTheCatalogue() throws Exception {
        Path corpus = Inputs.path("neo4j.confs").resolve("value-corpus.tsv");
        assertTrue(Files.isRegularFile(corpus), "no " + corpus + " (render-confs writes it)");
        List<String> disagreements = new ArrayList<>();
        List<String> report = new ArrayList<>();
        int rows = 0;
        for (String line : Files.readAllLines(corpus, StandardCharsets.UTF_8)) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            assertTrue(f.length == 3, "bad corpus line: " + line);
            String key = f[0];
            String value = f[1];
            boolean ours = Boolean.parseBoolean(f[2]);
            String why = neo4jRefuses(key, value);
            boolean neo4j = why == null;
            rows++;
            report.add(key + "\t" + value + "\tcatalogue=" + ours + "\tneo4j=" + neo4j + (why == null ? "" : "\t" + why));
            if (ours != neo4j) {
                disagreements.add(key + "=" + value + ": the catalogue says " + (ours ? "valid" : "invalid")
                        + ", Neo4j 5.26 says " + (neo4j ? "valid" : "invalid (" + why + ")"));
            }
        }
        Files.write(Inputs.reports().resolve("value-corpus.tsv"), report, StandardCharsets.UTF_8);
        Files.writeString(Inputs.reports().resolve("2-values.summary"), String.format(
                "values: %d setting values judged by the settings catalogue and by Neo4j 5.26's parser, %d disagreements%n",
                rows, disagreements.size()));
        assertTrue(rows > 50, "suspiciously small corpus: " + rows);
        assertTrue(disagreements.isEmpty(), String.join("\n", disagreements));
    }

    /** Neo4j's reason to refuse {@code key=value}, or null when it accepts it. */
    private static String neo4jRefuses(String key, String value) {
        try {
            Config.newBuilder()
                    .setRaw(Map.of(key, value))
                    .set(GraphDatabaseSettings.strict_config_validation, true)
                    .build();
            return null;
        } catch (RuntimeException e) {
            String m = String.valueOf(e.getMessage());
            return m.lines().findFirst().orElse(m);
        }
    }
}
