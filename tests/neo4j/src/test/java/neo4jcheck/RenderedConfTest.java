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

/**
 * Every rendered neo4j.conf through Neo4j 5.26's configuration module (see {@link ConfChecker}),
 * and what the rendering promises about it: Neo4j's stock JVM lines, transaction memory in
 * whole units, `spec.env` settings applied once (over `spec.config`), Secret-backed settings as
 * the startup script appends them, and no `apoc.*` key (those go to `apoc.conf`).
 */
class RenderedConfTest {
    /** The `server.jvm.additional` lines of the neo4j.conf Neo4j 5.26 ships. */
    static final List<String> STOCK_JVM = List.of(
            "-XX:+UseG1GC",
            "-XX:-OmitStackTraceInFastThrow",
            "-XX:+AlwaysPreTouch",
            "-XX:+UnlockExperimentalVMOptions",
            "-XX:+TrustFinalNonStaticFields",
            "-XX:+DisableExplicitGC",
            "-XX:-RestrictContended",
            "-Djdk.nio.maxCachedBufferSize=1024",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "-Djdk.tls.ephemeralDHKeySize=2048",
            "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--enable-native-access=ALL-UNNAMED",
            "-Dlog4j2.disable.jmx=true",
            "-Dlog4j.layout.jsonTemplate.maxStringLength=32768");
    private static final java.util.regex.Pattern WHOLE_BYTES = java.util.regex.Pattern.compile("\\d+[kmg]?");

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
            promises(file, Inputs.meta(path));
        }));
    }

    static void promises(ConfFile file, com.fasterxml.jackson.databind.JsonNode meta) {
        List<String> jvm = file.lines.stream()
                .filter(l -> l.key().equals("server.jvm.additional"))
                .map(ConfFile.Line::value)
                .toList();
        assertTrue(jvm.containsAll(STOCK_JVM), file.name() + ": stock JVM lines missing from " + jvm);
        assertTrue(jvm.stream().distinct().count() == jvm.size(), file.name() + ": a JVM line twice: " + jvm);
        for (String key : List.of("dbms.memory.transaction.total.max", "db.memory.transaction.max")) {
            String v = file.value(key);
            assertTrue(v == null || WHOLE_BYTES.matcher(v).matches(), file.name() + ": " + key + "=" + v + " is not in whole units");
        }
        assertTrue(file.keys().stream().noneMatch(k -> k.startsWith("apoc.")), file.name() + ": an apoc.* key in neo4j.conf");
        for (String field : List.of("envOverride", "secretSetting")) {
            String expected = meta.path(field).asText(null);
            if (expected == null || expected.isEmpty()) {
                continue;
            }
            String[] kv = expected.split("=", 2);
            long lines = file.lines.stream().filter(l -> l.key().equals(kv[0])).count();
            assertTrue(lines == 1 && kv[1].equals(file.value(kv[0])),
                    file.name() + ": expected exactly " + expected + ", found " + lines + " line(s), value " + file.value(kv[0]));
        }
    }
}
