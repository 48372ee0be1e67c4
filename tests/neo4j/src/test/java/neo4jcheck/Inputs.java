package neo4jcheck;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The inputs the Makefile passes as system properties; a missing input fails, it never skips. */
final class Inputs {
    private Inputs() {}

    static Path path(String property) {
        String v = System.getProperty(property);
        assertTrue(v != null && !v.isBlank(), "system property " + property + " is not set (run make neo4j-check)");
        return Path.of(v).toAbsolutePath().normalize();
    }

    static Catalogue catalogue() throws IOException {
        Path p = path("neo4j.catalogue");
        assertTrue(Files.isRegularFile(p), "no settings catalogue at " + p);
        return Catalogue.load(p);
    }

    /** The rendered neo4j.conf files for the 5.26 image, sorted; at least one. */
    static List<Path> confs() throws IOException {
        return confs(path("neo4j.confs"));
    }

    /** The rendered neo4j.conf files for the CalVer image (`calver/`), sorted; at least one. */
    static List<Path> calverConfs() throws IOException {
        return confs(path("neo4j.confs").resolve("calver"));
    }

    static Catalogue calverCatalogue() throws IOException {
        Path p = path("neo4j.catalogue.calver");
        assertTrue(Files.isRegularFile(p), "no CalVer settings catalogue at " + p);
        return Catalogue.load(p);
    }

    private static List<Path> confs(Path dir) throws IOException {
        assertTrue(Files.isDirectory(dir), "no rendered configurations at " + dir + " (make neo4j-check renders them)");
        List<Path> confs;
        try (Stream<Path> s = Files.list(dir)) {
            confs = s.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
        }
        assertFalse(confs.isEmpty(), "no *.conf in " + dir);
        return confs;
    }

    /** The `<case>.json` written next to `<case>.conf`. */
    static JsonNode meta(Path conf) throws IOException {
        String name = conf.getFileName().toString().replaceAll("\\.conf$", ".json");
        Path p = conf.resolveSibling(name);
        assertTrue(Files.isRegularFile(p), "no " + p);
        return new ObjectMapper().readTree(p.toFile());
    }

    static Path reports() throws IOException {
        Path dir = path("neo4j.reports");
        Files.createDirectories(dir);
        return dir;
    }
}
