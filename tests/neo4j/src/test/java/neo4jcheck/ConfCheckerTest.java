package neo4jcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checker itself: what it must refuse, so a green run of RenderedConfTest means something. */
class ConfCheckerTest {
    @TempDir
    Path dir;

    private ConfChecker.Report check(String... lines) throws Exception {
        Path f = dir.resolve("case.conf");
        Files.write(f, List.of(lines), StandardCharsets.ISO_8859_1);
        return ConfChecker.check(ConfFile.read(f), Inputs.catalogue());
    }

    @Test
    void aCleanFileWithEnterpriseKeysPasses() throws Exception {
        ConfChecker.Report r = check(
                "server.config.strict_validation.enabled=true",
                "server.memory.pagecache.size=512m",
                "server.jvm.additional=-XX:+UseG1GC",
                "server.jvm.additional=-XX:+ExitOnOutOfMemoryError",
                "dbms.ssl.policy.bolt.enabled=false",
                "dbms.cluster.discovery.resolver_type=SRV",
                "server.cluster.listen_address=0.0.0.0:6000");
        assertEquals(List.of(), r.problems);
        assertEquals(Set.of("dbms.cluster.discovery.resolver_type", "server.cluster.listen_address"), r.undeclared);
    }

    @Test
    void aValueNeo4jCannotParseIsRefused() throws Exception {
        ConfChecker.Report r = check("server.memory.pagecache.size=lots");
        assertTrue(r.problems.stream().anyMatch(p -> p.contains("server.memory.pagecache.size")), r.problems::toString);
    }

    @Test
    void aDuplicateKeyIsRefused() throws Exception {
        ConfChecker.Report r = check("db.transaction.timeout=10s", "db.transaction.timeout=20s");
        assertTrue(r.problems.stream().anyMatch(p -> p.contains("declared multiple times")), r.problems::toString);
    }

    @Test
    void anUnknownKeyIsRefused() throws Exception {
        ConfChecker.Report r = check("db.transaction.timout=10s");
        assertTrue(r.problems.stream().anyMatch(p -> p.contains("not in the 5.26 catalogue")), r.problems::toString);
    }

    @Test
    void anUnknownGroupSuffixIsRefused() throws Exception {
        ConfChecker.Report r = check("dbms.ssl.policy.bolt.private_kee=tls.key");
        assertTrue(r.problems.stream().anyMatch(p -> p.contains("ignored by Neo4j")), r.problems::toString);
    }

    @Test
    void anEnterpriseValueOfTheWrongTypeIsRefused() throws Exception {
        ConfChecker.Report bad = check("server.cluster.system_database_mode=ARBITER");
        assertTrue(bad.problems.stream().anyMatch(p -> p.contains("not one of")), bad.problems::toString);
        ConfChecker.Report range = check("dbms.cluster.network.max_chunk_size=1024");
        assertTrue(range.problems.stream().anyMatch(p -> p.contains("below the minimum")), range.problems::toString);
    }

    @Test
    void strictValidationSwitchedOffIsRefused() throws Exception {
        ConfChecker.Report r = check("server.config.strict_validation.enabled=false");
        assertTrue(r.problems.stream().anyMatch(p -> p.contains("is off")), r.problems::toString);
    }

    @Test
    void theCalverCatalogueKnowsWhich526SettingsAreGone() throws Exception {
        Catalogue calver = Inputs.calverCatalogue();
        assertTrue(calver.removed.containsKey("dbms.cluster.discovery.version"), calver.removed::toString);
        assertEquals("dbms.cluster.endpoints", calver.renamed.get("dbms.cluster.discovery.v2.endpoints"));
        assertTrue(calver.find("dbms.cluster.discovery.v2.endpoints").isEmpty());
    }
}
