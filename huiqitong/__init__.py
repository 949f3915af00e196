"""What every part of 惠企通 shares and no feature owns: the settings, the domain's vocabulary and the
handoff packet. It imports none of the feature packages (gateway, actions, knowledge, bot)."""
