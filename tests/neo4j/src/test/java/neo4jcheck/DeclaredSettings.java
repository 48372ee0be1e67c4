package neo4jcheck;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.GroupSetting;
import org.neo4j.configuration.SettingImpl;
import org.neo4j.configuration.ssl.SslPolicyConfig;
import org.neo4j.configuration.ssl.SslPolicyScope;
import org.neo4j.graphdb.config.Setting;
import org.neo4j.service.Services;
import org.neo4j.values.storable.CoordinateReferenceSystem;

/** Every setting the Neo4j on the classpath (5.26 Community) declares, group settings included. */
final class DeclaredSettings {
    /** One declared setting; {@code group} is the group prefix for group settings, else null. */
    record Declared(
            String name,
            String group,
            String javaType,
            String validValues,
            String defaultValue,
            boolean dynamic,
            boolean internal,
            boolean deprecated,
            String declaredBy) {
        Kinds.Kind kind() {
            return Kinds.of(validValues);
        }

        String tsv() {
            return String.join(
                    "\t",
                    name,
                    group == null ? "" : group,
                    javaType,
                    validValues.replace('\t', ' ').replace('\n', ' '),
                    defaultValue == null ? "" : defaultValue.replace('\t', ' ').replace('\n', ' '),
                    dynamic ? "dynamic" : "",
                    internal ? "internal" : "",
                    deprecated ? "deprecated" : "",
                    declaredBy == null ? "" : declaredBy);
        }
    }

    static final String TSV_HEADER = "name\tgroup\tjava_type\tvalid_values\tdefault\tdynamic\tinternal\tdeprecated\tdeclared_by";

    private DeclaredSettings() {}

    /** Group prefix -> ids to instantiate it with (a group accepts only some ids). */
    static Map<String, List<String>> groupIds() {
        Map<String, List<String>> out = new TreeMap<>();
        for (GroupSetting g : Services.loadAll(GroupSetting.class)) {
            List<String> ids = new ArrayList<>();
            if (g instanceof SslPolicyConfig) {
                for (SslPolicyScope s : SslPolicyScope.values()) {
                    ids.add(s.name().toLowerCase(Locale.ROOT));
                }
            } else if (g.getPrefix().equals("internal.dbms.db.spatial.crs")) {
                CoordinateReferenceSystem.all().forEach(c -> ids.add(c.getName()));
            } else {
                ids.add("probe");
            }
            out.put(g.getPrefix(), ids);
        }
        return out;
    }

    /** Every declared setting sorted by name, and the groups whose settings could not be listed. */
    record Listing(List<Declared> settings, List<String> unlistedGroups) {}

    /** Sorted by name. */
    @SuppressWarnings("unchecked") // every Setting Config declares is a SettingImpl
    static Listing all() {
        // Defaults as the server sees them (the bootstrapper applies SERVER_DEFAULTS, e.g. Bolt
        // and HTTP on, authentication on), not as an embedded database would.
        Config plain = Config.newBuilder()
                .setDefaults(GraphDatabaseSettings.SERVER_DEFAULTS)
                .build();
        Map<String, Setting<Object>> settings = new TreeMap<>(plain.getDeclaredSettings());
        Map<String, String> groupOf = new HashMap<>();

        // A group's settings exist once one of its keys is configured: name an unknown suffix of
        // each group (non-strict, so it is only logged) and collect what appears.
        List<String> unlisted = new ArrayList<>();
        for (Map.Entry<String, List<String>> group : groupIds().entrySet()) {
            String prefix = group.getKey();
            Map<String, String> probes = new HashMap<>();
            group.getValue().forEach(id -> probes.put(prefix + "." + id + ".probe-only", "x"));
            Config grouped;
            try {
                grouped = Config.newBuilder()
                        .set(GraphDatabaseSettings.strict_config_validation, false)
                        .setRaw(probes)
                        .build();
            } catch (RuntimeException e) {
                unlisted.add(prefix + ": " + e.getMessage());
                continue;
            }
            for (Map.Entry<String, Setting<Object>> e : grouped.getDeclaredSettings().entrySet()) {
                if (!settings.containsKey(e.getKey()) && e.getKey().startsWith(prefix + ".")) {
                    settings.put(e.getKey(), e.getValue());
                    groupOf.put(e.getKey(), prefix);
                }
            }
        }

        List<Declared> out = new ArrayList<>();
        for (Map.Entry<String, Setting<Object>> e : settings.entrySet()) {
            SettingImpl<Object> s = (SettingImpl<Object>) e.getValue();
            Object def = plain.getDeclaredSettings().containsKey(s.name()) ? plain.getDefault(s) : s.defaultValue();
            out.add(new Declared(
                    s.name(),
                    groupOf.get(s.name()),
                    s.parser().getType().getName(),
                    s.validValues(),
                    def == null ? null : s.valueToString(def),
                    s.dynamic(),
                    s.internal() || s.name().startsWith("internal."),
                    s.deprecated(),
                    s.sourceLocation()));
        }
        return new Listing(out, unlisted);
    }
}
