package neo4jcheck;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** The settings catalogue of one release line (shared/data/neo4j-settings/*.json). */
final class Catalogue {
    /** One catalogue entry; {@code regex} is set for group settings such as dbms.ssl.policy.<scope>.x. */
    record Entry(String name, String edition, JsonNode type, String defaultValue, Pattern regex) {
        String kind() {
            return type.path("kind").asText();
        }

        boolean enterprise() {
            return "enterprise".equals(edition);
        }
    }

    final String releaseLine;
    final String sourceCommit;
    private final Map<String, Entry> exact = new TreeMap<>();
    private final List<Entry> groups = new ArrayList<>();
    /** Settings the manual lists as removed (CalVer), with what replaces them when anything does. */
    final Map<String, String> removed = new TreeMap<>();
    /** Old name -> new name of settings renamed (CalVer). */
    final Map<String, String> renamed = new TreeMap<>();

    private Catalogue(JsonNode root) {
        releaseLine = root.path("release_line").asText();
        sourceCommit = root.path("source").path("commit").asText();
        for (JsonNode s : root.path("settings")) {
            JsonNode d = s.get("default");
            String regex = s.path("name_regex").asText(null);
            Entry e = new Entry(
                    s.path("name").asText(),
                    s.path("edition").asText(),
                    s.path("type"),
                    d == null || d.isNull() ? null : d.asText(),
                    regex == null ? null : Pattern.compile(regex));
            if (e.regex() == null) {
                exact.put(e.name(), e);
            } else {
                groups.add(e);
            }
        }
        for (JsonNode r : root.path("removed")) {
            removed.put(r.path("name").asText(), r.path("replaced_by").asText(""));
        }
        for (JsonNode r : root.path("renamed")) {
            renamed.put(r.path("name").asText(), r.path("renamed_to").asText());
        }
    }

    static Catalogue load(Path file) throws IOException {
        return new Catalogue(new ObjectMapper().readTree(file.toFile()));
    }

    int size() {
        return exact.size() + groups.size();
    }

    /** The entry documenting {@code key}: its exact name, else the group whose pattern matches. */
    Optional<Entry> find(String key) {
        Entry e = exact.get(key);
        if (e != null) {
            return Optional.of(e);
        }
        return groups.stream().filter(g -> g.regex().matcher(key).matches()).findFirst();
    }
}
