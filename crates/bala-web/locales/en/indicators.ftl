# indicators pillar
