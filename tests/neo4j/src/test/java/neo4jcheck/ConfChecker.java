package neo4jcheck;

import static org.neo4j.configuration.SettingValueParsers.BOOL;
import static org.neo4j.configuration.SettingValueParsers.BYTES;
import static org.neo4j.configuration.SettingValueParsers.DOUBLE;
import static org.neo4j.configuration.SettingValueParsers.DURATION;
import static org.neo4j.configuration.SettingValueParsers.INT;
import static org.neo4j.configuration.SettingValueParsers.LONG;
import static org.neo4j.configuration.SettingValueParsers.PATH;
import static org.neo4j.configuration.SettingValueParsers.SOCKET_ADDRESS;
import static org.neo4j.configuration.SettingValueParsers.URI;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.SettingValueParser;

/**
 * One rendered neo4j.conf through Neo4j's own configuration module, as the server reads it:
 * strict validation, duplicates refused, every value parsed. Keys the module does not declare
 * (Enterprise-only settings) are set aside by Neo4j's own verdict and must then be in the
 * catalogue, with a value that Neo4j's parser for the catalogued type accepts.
 */
final class ConfChecker {
    private static final Pattern UNRECOGNIZED =
            Pattern.compile("Unrecognized setting\\. No declared setting with name: (\\S+?)\\.(?: |$)");

    /** What one file came to. */
    static final class Report {
        final ConfFile file;
        final Set<String> undeclared = new TreeSet<>();
        final List<String> problems = new ArrayList<>();
        Config config;

        Report(ConfFile file) {
            this.file = file;
        }
    }

    private ConfChecker() {}

    static Report check(ConfFile file, Catalogue catalogue) {
        Report r = new Report(file);
        Set<String> keys = new TreeSet<>(file.keys());
        // Neo4j stops at the first key it does not know; set it aside and read the file again.
        while (true) {
            try {
                r.config = Config.newBuilder()
                        .fromFile(file.path, true, k -> !r.undeclared.contains(k))
                        .build();
                break;
            } catch (IllegalArgumentException e) {
                Matcher m = UNRECOGNIZED.matcher(String.valueOf(e.getMessage()));
                if (m.find() && keys.contains(m.group(1)) && r.undeclared.add(m.group(1))) {
                    continue;
                }
                r.problems.add("Neo4j refuses the file: " + messages(e));
                return r;
            }
        }
        // Strict validation is what makes a bad key fatal; it must be on (explicitly or by default).
        if (!r.config.get(GraphDatabaseSettings.strict_config_validation)) {
            r.problems.add(GraphDatabaseSettings.strict_config_validation.name() + " is off");
        }
        // A group setting with an unknown suffix is accepted and ignored by Neo4j.
        Set<String> declared = r.config.getDeclaredSettings().keySet();
        for (String k : keys) {
            if (!declared.contains(k) && !r.undeclared.contains(k)) {
                r.problems.add(k + ": accepted but ignored by Neo4j (no such setting in its group)");
            }
        }
        for (String k : r.undeclared) {
            var entry = catalogue.find(k);
            if (entry.isEmpty()) {
                r.problems.add(k + ": not declared by Neo4j " + catalogue.releaseLine + " Community and not in the "
                        + catalogue.releaseLine + " catalogue");
                continue;
            }
            if (!entry.get().enterprise()) {
                r.problems.add(k + ": the catalogue says Community, but Neo4j " + catalogue.releaseLine
                        + " Community does not declare it");
            }
            String problem = checkValue(entry.get().type(), file.value(k));
            if (problem != null) {
                r.problems.add(k + "=" + file.value(k) + ": " + problem + " (catalogued as "
                        + Kinds.ofCatalogue(entry.get().type()) + ")");
            }
        }
        return r;
    }

    static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (sb.length() > 0) {
                sb.append(" <- ");
            }
            sb.append(t.getMessage());
        }
        return sb.toString();
    }

    /** Null when Neo4j's parser for the catalogued type accepts {@code value}, else why not. */
    static String checkValue(JsonNode type, String value) {
        try {
            switch (type.path("kind").asText()) {
                case "boolean" -> BOOL.parse(value);
                case "duration" -> bounded(DURATION, type, value);
                case "bytes" -> bounded(BYTES, type, value);
                case "integer" -> bounded(INT, type, value);
                case "long" -> bounded(LONG, type, value);
                case "double" -> bounded(DOUBLE, type, value);
                case "socket_address", "hostname" -> SOCKET_ADDRESS.parse(value);
                case "path" -> PATH.parse(value);
                case "uri" -> URI.parse(value);
                case "enum" -> {
                    List<String> values = new ArrayList<>();
                    type.path("values").forEach(v -> values.add(v.asText().toUpperCase(Locale.ROOT)));
                    if (!values.contains(value.strip().toUpperCase(Locale.ROOT))) {
                        return "not one of " + values;
                    }
                }
                case "list" -> {
                    for (String item : value.split(",")) {
                        if (!item.isBlank()) {
                            String p = checkValue(type.path("element"), item.strip());
                            if (p != null) {
                                return "element " + item.strip() + ": " + p;
                            }
                        }
                    }
                }
                case "string" -> {
                    if (type.has("pattern") && !Pattern.compile(type.get("pattern").asText()).matcher(value).matches()) {
                        return "does not match " + type.get("pattern").asText();
                    }
                }
                default -> {
                    // other kinds (maps, JVM arguments, names) have no parser to reuse here
                }
            }
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static <T extends Comparable<T>> void bounded(SettingValueParser<T> parser, JsonNode type, String value) {
        T v = parser.parse(value);
        if (type.has("or") && v.equals(parser.parse(type.get("or").asText()))) {
            return;
        }
        if (type.has("min") && v.compareTo(parser.parse(type.get("min").asText())) < 0) {
            throw new IllegalArgumentException("below the minimum " + type.get("min").asText());
        }
        if (type.has("max") && v.compareTo(parser.parse(type.get("max").asText())) > 0) {
            throw new IllegalArgumentException("above the maximum " + type.get("max").asText());
        }
    }
}
