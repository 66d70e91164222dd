<?xml version="1.0" encoding="UTF-8"?>
<!-- autoradio: Icecast statistics as stable JSON, one object per mount.
     Installed into radiod's Icecast web root; served without authentication
     (it shows what /status-json.xsl shows, in a fixed shape). -->
<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0">
<xsl:output omit-xml-declaration="yes" method="text" indent="no" media-type="application/json" encoding="UTF-8"/>
<xsl:strip-space elements="*"/>

<xsl:template match="/icestats">
  <xsl:text>{"server_id":"</xsl:text>
  <xsl:call-template name="str"><xsl:with-param name="s" select="server_id"/></xsl:call-template>
  <xsl:text>","location":"</xsl:text>
  <xsl:call-template name="str"><xsl:with-param name="s" select="location"/></xsl:call-template>
  <xsl:text>","mounts":[</xsl:text>
  <xsl:for-each select="source">
    <xsl:if test="position() != 1"><xsl:text>,</xsl:text></xsl:if>
    <xsl:text>{"mount":"</xsl:text>
    <xsl:call-template name="str"><xsl:with-param name="s" select="@mount"/></xsl:call-template>
    <xsl:text>","listeners":</xsl:text>
    <xsl:value-of select="number(concat('0', listeners))"/>
    <xsl:text>,"source_connected":</xsl:text>
    <xsl:value-of select="boolean(stream_start)"/>
    <xsl:text>,"bitrate_kbps":</xsl:text>
    <xsl:choose>
      <xsl:when test="number(ice-bitrate) &gt; 0"><xsl:value-of select="floor(number(ice-bitrate))"/></xsl:when>
      <xsl:when test="number(audio_bitrate) &gt; 0"><xsl:value-of select="floor(number(audio_bitrate) div 1000)"/></xsl:when>
      <xsl:otherwise>0</xsl:otherwise>
    </xsl:choose>
    <xsl:text>,"title":"</xsl:text>
    <xsl:if test="string(artist) != ''">
      <xsl:call-template name="str"><xsl:with-param name="s" select="concat(artist, ' - ')"/></xsl:call-template>
    </xsl:if>
    <xsl:call-template name="str"><xsl:with-param name="s" select="title"/></xsl:call-template>
    <xsl:text>"}</xsl:text>
  </xsl:for-each>
  <xsl:text>]}
</xsl:text>
</xsl:template>

<!-- str writes $s as the inside of a JSON string: backslashes and quotes
     escaped, tabs and line breaks turned into spaces. -->
<xsl:template name="str">
  <xsl:param name="s"/>
  <xsl:call-template name="escape">
    <xsl:with-param name="s" select="translate(string($s), '&#9;&#10;&#13;', '   ')"/>
    <xsl:with-param name="c" select="'\'"/>
  </xsl:call-template>
</xsl:template>

<!-- escape prefixes every $c (first a backslash, then a quote) with a
     backslash. -->
<xsl:template name="escape">
  <xsl:param name="s"/>
  <xsl:param name="c"/>
  <xsl:choose>
    <xsl:when test="$c = '\' and contains($s, '\')">
      <xsl:call-template name="escape">
        <xsl:with-param name="s" select="substring-before($s, '\')"/>
        <xsl:with-param name="c" select="'&quot;'"/>
      </xsl:call-template>
      <xsl:text>\\</xsl:text>
      <xsl:call-template name="escape">
        <xsl:with-param name="s" select="substring-after($s, '\')"/>
        <xsl:with-param name="c" select="'\'"/>
      </xsl:call-template>
    </xsl:when>
    <xsl:when test="$c = '\'">
      <xsl:call-template name="escape">
        <xsl:with-param name="s" select="$s"/>
        <xsl:with-param name="c" select="'&quot;'"/>
      </xsl:call-template>
    </xsl:when>
    <xsl:when test="contains($s, '&quot;')">
      <xsl:value-of select="substring-before($s, '&quot;')"/>
      <xsl:text>\"</xsl:text>
      <xsl:call-template name="escape">
        <xsl:with-param name="s" select="substring-after($s, '&quot;')"/>
        <xsl:with-param name="c" select="'&quot;'"/>
      </xsl:call-template>
    </xsl:when>
    <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
  </xsl:choose>
</xsl:template>
</xsl:stylesheet>
